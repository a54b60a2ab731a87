/** Person lookup (audited, with a purpose, rate-limited) and the household view. */
import { z } from 'zod';
import { normalizeIdNumber } from '../../normalize/id-number.ts';
import { maskIdNumber } from '../../normalize/mask.ts';
import { findingStateLabel } from '../console/labels.ts';
import { maskDeep } from '../mask-json.ts';
import { type PersonFinding, personJson, personPicture } from '../person.ts';
import { audit, forbid, HttpError } from '../request.ts';
import { type Api, route } from './route.ts';

const Purpose = z.string().trim().min(2, 'state the purpose of the lookup (查询事由)').max(200);

export function registerPeople(api: Api): void {
  const { wh, config, today, lookupLimit } = api;
  // Codes stay the machine fields; state_label is for a screen that shows the finding as the console does.
  const labelled = (fs: PersonFinding[]) =>
    fs.map((f) => ({ ...f, state_label: findingStateLabel(f.state) }));
  route(
    api,
    {
      method: 'get',
      path: '/api/persons/{id}',
      summary:
        'The full picture of one person across all feeds, their household, findings and their history (audited); times ISO 8601 with the county offset',
      roles: ['bureau', 'department'],
      params: z.object({ id: z.string().min(15).max(20) }),
      query: z.object({ purpose: Purpose }),
    },
    async ({ req, reply, who, params, query }) => {
      await lookupLimit(req, reply);
      const n = normalizeIdNumber(params.id, { today: today() });
      if (!n.id)
        throw new HttpError(
          400,
          'invalid_request',
          `path parameter id: not a valid ID number (${n.problem})`,
        );
      const id = n.id;
      if (who.role === 'department') {
        // Full IDs for a department only for persons on its own list.
        const own = await wh.db
          .selectFrom('findings')
          .select('id')
          .where('id_number', '=', id)
          .where('department', '=', who.department)
          .where('state', '<>', 'closed')
          .executeTakeFirst();
        if (!own) await forbid(wh, who, `person ${maskIdNumber(id)} (not on this department's list)`);
      }
      const picture = await personPicture(wh.db, id);
      await audit(wh, who, 'person.lookup', maskIdNumber(id), picture ? 1 : 0, { purpose: query.purpose });
      if (!picture) throw new HttpError(404, 'not_found', `no records for ${maskIdNumber(id)}`);
      if (who.role === 'department') {
        // A department sees its own findings of the person, not the whole cross-department picture (§9).
        return {
          id_number: picture.id_number,
          findings: labelled(picture.findings.filter((f) => f.department === who.department)),
        };
      }
      const json = personJson(picture, config.timezone);
      return { ...json, findings: labelled(json.findings) };
    },
  );

  route(
    api,
    {
      method: 'get',
      path: '/api/households/{id}',
      summary: 'A household: members (IDs masked), household-level records and findings',
      roles: ['bureau'],
      params: z.object({ id: z.string().min(1).max(40) }),
    },
    async ({ params }) => {
      const members = await wh.db
        .selectFrom('roster')
        .select(['id_number', 'name', 'relation', 'household_type', 'township', 'village'])
        .where('household_id', '=', params.id)
        .where('valid_to', 'is', null)
        .orderBy('id_number')
        .execute();
      if (!members.length) throw new HttpError(404, 'not_found', `no current household ${params.id}`);
      const findings = await wh.db
        .selectFrom('findings')
        .select(['id', 'rule_id', 'department', 'state', 'id_number', 'first_seen_on', 'deadline'])
        .where('household_id', '=', params.id)
        .orderBy('rule_id')
        .execute();
      return maskDeep({ household_id: params.id, members, findings });
    },
  );
}
