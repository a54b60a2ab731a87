/**
 * Findings (paged, filtered; a department sees only its own, enforced by PostgreSQL), a finding's lineage (the
 * bureau's only) and indicators.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { RuleIdSchema } from '../../../pipelines/rules/index.ts';
import { codeOf, FINDING_STATE_FILTER_LABELS } from '../../../schemas/labels.ts';
import { presentLineage, readFindingLineage } from '../../findings/lineage.ts';
import {
  FINDING_COLUMNS,
  FINDINGS_STATE_FILTERS,
  overdueDays,
  selectFindings,
} from '../../findings/query.ts';
import { measureIndicators } from '../../reporting/indicators.ts';
import type { Database } from '../../warehouse/schema.ts';
import { maskDeep } from '../mask-json.ts';
import { audit, forbid, HttpError } from '../request.ts';
import { withDepartmentScope } from '../scope.ts';
import { type Api, route } from './route.ts';

/** A state as the console's tables show it (已派发) means the same as its code (sent). */
const STATE_LABELS = Object.values(FINDING_STATE_FILTER_LABELS) as [string, ...string[]];

const FindingsQuery = z.object({
  rule: RuleIdSchema.optional(),
  department: z.string().max(20).optional(),
  township: z.string().max(40).optional(),
  state: z
    .union([z.enum(FINDINGS_STATE_FILTERS), z.enum(STATE_LABELS)])
    .default('not_closed')
    .transform((s) => codeOf(FINDING_STATE_FILTER_LABELS, s) ?? 'not_closed'),
  overdue: z.enum(['true', 'false']).optional(),
  page: z.coerce.number().int().min(1).default(1),
  page_size: z.coerce.number().int().min(1).max(500).default(50),
});

async function listFindings(db: Kysely<Database>, q: z.infer<typeof FindingsQuery>, today: string) {
  const base = selectFindings(db, {
    rules: q.rule ? [q.rule] : undefined,
    department: q.department,
    township: q.township,
    state: q.state,
    overdueOn: q.overdue === 'true' ? today : undefined,
  });
  const total = await base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  const items = await base
    .select([...FINDING_COLUMNS, overdueDays(today)])
    .orderBy('rule_id')
    .orderBy('id')
    .limit(q.page_size)
    .offset((q.page - 1) * q.page_size)
    .execute();
  return { items, page: q.page, page_size: q.page_size, total: Number(total.n) };
}

export function registerFindings(api: Api): void {
  const { wh, config, today } = api;
  route(
    api,
    {
      method: 'get',
      path: '/api/findings',
      summary:
        'Findings with filters and pagination (bureau: all, IDs masked; department: its own, full IDs)',
      roles: ['bureau', 'department'],
      query: FindingsQuery,
    },
    async ({ who, query }) => {
      if (who.role === 'department') {
        if (query.department && query.department !== who.department) {
          await forbid(wh, who, `findings of ${query.department}`);
        }
        return withDepartmentScope(wh, who.department!, (trx) => listFindings(trx, query, today()));
      }
      return maskDeep(await listFindings(wh.db, query, today()));
    },
  );

  route(
    api,
    {
      method: 'get',
      path: '/api/findings/{id}',
      summary: 'One finding with its history',
      roles: ['bureau', 'department'],
      params: z.object({ id: z.coerce.number().int().positive() }),
    },
    async ({ who, params }) => {
      const read = async (db: Kysely<Database>) => {
        const f = await db.selectFrom('findings').selectAll().where('id', '=', params.id).executeTakeFirst();
        if (!f) return null;
        const history = await db
          .selectFrom('finding_events')
          .select(['on_date', 'from_state', 'to_state', 'reason'])
          .where('finding_id', '=', params.id)
          .orderBy('id')
          .execute();
        return { ...f, history };
      };
      if (who.role === 'department') {
        const mine = await withDepartmentScope(wh, who.department!, read);
        if (mine) return mine;
        // Not visible in the department's scope: another department's item (403, audited) or none (404).
        const exists = await wh.db
          .selectFrom('findings')
          .select('id')
          .where('id', '=', params.id)
          .executeTakeFirst();
        if (exists) await forbid(wh, who, `finding ${params.id} of another department`);
        throw new HttpError(404, 'not_found', `no finding ${params.id}`);
      }
      const f = await read(wh.db);
      if (!f) throw new HttpError(404, 'not_found', `no finding ${params.id}`);
      return maskDeep(f);
    },
  );

  route(
    api,
    {
      method: 'get',
      path: '/api/findings/{id}/lineage',
      summary:
        "A finding's events, each with the records a match found behind it: feed (with its Chinese title), key fields, file, sheet, row, load run, data date (bureau, IDs masked; a department gets the 404 of a finding that does not exist)",
      roles: ['bureau', 'department'],
      params: z.object({ id: z.coerce.number().int().positive() }),
    },
    async ({ who, params }) => {
      // Lineage names other departments' records (docs/findings.md), so no department may read it, not even of
      // its own item. The answer is the one a missing id gets, so it tells nothing of which findings exist; the
      // attempt is still a refusal the bureau wants to see.
      const none = new HttpError(404, 'not_found', 'no such finding');
      if (who.role === 'department') {
        await audit(wh, who, 'access.denied', `lineage of finding ${params.id}`, 0);
        throw none;
      }
      const lineage = await readFindingLineage(wh.db, params.id);
      if (!lineage) throw none;
      // The bureau reads IDs masked here as in every findings route; maskDeep also catches an ID quoted in a
      // file name or a rejected row's raw key.
      return maskDeep(presentLineage(lineage, { fullIds: false }));
    },
  );

  route(
    api,
    {
      method: 'get',
      path: '/api/indicators',
      summary: 'Indicators of DOMAIN §8 by county, township or village, with target and status',
      roles: ['bureau'],
      query: z.object({
        level: z.enum(['county', 'township', 'village', 'all']).default('all'),
        as_of: z
          .string()
          .regex(/^\d{4}-\d{2}-\d{2}$/)
          .optional(),
      }),
    },
    async ({ query }) => {
      const { rows, unmeasured } = await measureIndicators(wh.db, { asOf: query.as_of ?? today(), config });
      // The indicators not measured at the date (a feed their rule requires never loaded): named, not left out.
      return {
        items: query.level === 'all' ? rows : rows.filter((r) => r.level === query.level),
        unmeasured,
      };
    },
  );
}
