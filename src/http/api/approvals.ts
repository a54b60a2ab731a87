/**
 * Approvals over HTTP (src/approvals/; docs/privacy.md, "Approvals"): a token whose person lookups today have
 * reached `approvals.person_lookups_per_day` asks for more, and another bureau token approves or denies. Here the
 * principal is the token, so the four-eyes rule is enforced: a token cannot decide its own request, and only bureau
 * tokens decide. The refusals answer by kind: 404 no such approval, 409 not pending, 403 the requester or not the
 * bureau.
 */

import { z } from 'zod';
import { dayIn, isoLocal } from '../../../core/clock.ts';
import {
  type Approval,
  ApprovalRefused,
  approvalStatus,
  decideApproval,
  listApprovals,
  requestApproval,
  tokenPrincipal,
} from '../../approvals/approvals.ts';
import { HttpError } from '../request.ts';
import { type Api, route } from './route.ts';

const Reason = z.string().trim().min(2, 'say why (recorded)').max(500);

export function registerApprovals(api: Api): void {
  const { wh, config } = api;
  const tz = config.timezone;
  const json = (a: Approval, now: Date) => ({
    id: a.id,
    kind: a.kind,
    status: approvalStatus(a, now),
    scope: a.scope,
    requested_by: a.requested_by,
    reason: a.reason,
    requested_at: isoLocal(tz, a.requested_at),
    decided_by: a.decided_by,
    decision_reason: a.decision_reason,
    decided_at: a.decided_at && isoLocal(tz, a.decided_at),
    expires_at: isoLocal(tz, a.expires_at),
    used_at: a.used_at && isoLocal(tz, a.used_at),
  });
  // A refusal of approvals.ts as the HTTP status its kind means.
  const refused = (err: unknown): never => {
    if (err instanceof ApprovalRefused) {
      const status = { not_found: 404, state: 409, same_principal: 403, role: 403, scope: 409 }[err.why];
      throw new HttpError(
        status,
        status === 404 ? 'not_found' : status === 403 ? 'forbidden' : 'conflict',
        err.message,
      );
    }
    throw err;
  };

  route(
    api,
    {
      method: 'post',
      path: '/api/approvals/person-lookups',
      summary:
        'Ask for more person lookups today than approvals.person_lookups_per_day (this token; audited); another bureau token decides',
      roles: ['bureau', 'department'],
      query: z.object({ lookups: z.coerce.number().int().min(1).max(10_000), reason: Reason }),
    },
    async ({ who, query }) => {
      const now = new Date();
      const a = await requestApproval(wh.db, {
        kind: 'person-lookups',
        scope: { token_id: who.tokenId, day: dayIn(tz, now), lookups: query.lookups },
        by: tokenPrincipal(who),
        reason: query.reason,
        validHours: config.approvals.valid_hours,
        now,
      });
      return json(a, now);
    },
  );

  route(
    api,
    {
      method: 'get',
      path: '/api/approvals',
      summary:
        'Approvals, newest first (a department token: its own requests); open=true: pending or approved, unused',
      roles: ['bureau', 'department'],
      query: z.object({ open: z.enum(['true', 'false']).default('false') }),
    },
    async ({ who, query }) => {
      const now = new Date();
      const all = await listApprovals(wh.db, { open: query.open === 'true', now });
      const mine = `token:${who.tokenId}`;
      return all.filter((a) => who.role === 'bureau' || a.requested_by === mine).map((a) => json(a, now));
    },
  );

  for (const decision of ['approve', 'deny'] as const) {
    route(
      api,
      {
        method: 'post',
        path: `/api/approvals/{id}/${decision}`,
        summary: `${decision === 'approve' ? 'Approve' : 'Deny'} a pending request: a bureau token other than the requester's (audited)`,
        roles: ['bureau'],
        params: z.object({ id: z.string().regex(/^[0-9]{1,15}$/, 'an approval id') }),
        query: z.object({
          reason: decision === 'deny' ? Reason : Reason.optional(),
        }),
      },
      async ({ who, params, query }) => {
        const now = new Date();
        const a = await decideApproval(wh.db, {
          id: Number(params.id),
          decision: decision === 'approve' ? 'approved' : 'denied',
          by: tokenPrincipal(who),
          reason: query.reason,
          now,
        }).catch(refused);
        return json(a, now);
      },
    );
  }
}
