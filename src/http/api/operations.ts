/** What operators watch: runs, feed freshness and health, quarantine counts — no personal data. */
import { z } from 'zod';
import { isoLocal } from '../../../core/clock.ts';
import { FEED_IDS } from '../../../pipelines/feeds/index.ts';
import { collectStatus } from '../../scheduler/status.ts';
import { RUN_COLUMNS } from '../../warehouse/ledger.ts';
import { maskDeep } from '../mask-json.ts';
import { type Api, route } from './route.ts';

export function registerOperations(api: Api): void {
  const { wh, config } = api;
  route(
    api,
    {
      method: 'get',
      path: '/api/runs',
      summary: 'The run ledger, newest first',
      roles: ['operator', 'bureau'],
      query: z.object({
        feed: z.enum(FEED_IDS).optional(),
        failed: z.enum(['true', 'false']).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
      }),
    },
    async ({ query }) => {
      let q = wh.db.selectFrom('runs').select(RUN_COLUMNS).orderBy('id', 'desc').limit(query.limit);
      if (query.feed) q = q.where('feed', '=', query.feed);
      if (query.failed === 'true') q = q.where('status', '=', 'failed');
      // ISO 8601 with the county zone's offset, as every time the API returns.
      const at = (d: Date | null) => (d ? isoLocal(config.timezone, d) : null);
      const items = (await q.execute()).map((r) => ({
        ...r,
        started_at: at(r.started_at),
        finished_at: at(r.finished_at),
      }));
      return maskDeep({ items });
    },
  );

  route(
    api,
    {
      method: 'get',
      path: '/api/status',
      summary: 'Feed freshness and health, rules, scheduled jobs and server settings (as `ruralhub status`)',
      roles: ['operator', 'bureau'],
    },
    async () => maskDeep(await collectStatus(wh, config, new Date())),
  );

  route(
    api,
    {
      method: 'get',
      path: '/api/quarantine/counts',
      summary: 'Rejected values by feed and reason (counts only)',
      roles: ['operator', 'bureau'],
    },
    async () => ({
      items: await wh.db
        .selectFrom('quarantine')
        .select(['feed', 'problem', (eb) => eb.fn.countAll<string>().as('rows')])
        .groupBy(['feed', 'problem'])
        .orderBy('feed')
        .orderBy('problem')
        .execute(),
    }),
  );
}
