/**
 * Approvals for bulk operations (issue 27; docs/privacy.md, "Approvals"): a bulk disclosure of full ID numbers is
 * done only under an approval that one principal requested, with a reason, and another principal decided. Each
 * step — request, approve, deny, use — writes an audit row in the transaction that makes it, so the log shows who
 * asked, who allowed it and which export used it.
 *
 * Who is a principal depends on the door (ApprovalPrincipal): an API or console token (`token:ID`), or a name an
 * operator gives at the command line (`cli:NAME`). At the HTTP door the rule is enforced — a bearer token cannot
 * be another one, and only bureau tokens decide. At the command line it is a recorded four-eyes procedure, not a
 * security boundary: the CLI runs with the warehouse's database rights, and nothing stops one person from typing
 * two names. The record makes that visible afterwards; the database at least refuses a decision by the requester.
 */
import type { Kysely, Selectable } from 'kysely';
import { configError, RuralHubError } from '../../core/errors.ts';
import { APPROVAL_KINDS, type ApprovalKind } from '../../schemas/vocabulary.ts';
import { writeAudit } from '../warehouse/audit.ts';
import type { ApprovalsTable, Database } from '../warehouse/schema.ts';

// Defined in the vocabulary leaf, so that `approvals --help` names the kinds without loading this module.
export { APPROVAL_KINDS, type ApprovalKind };
export const isApprovalKind = (k: string): k is ApprovalKind =>
  (APPROVAL_KINDS as readonly string[]).includes(k);

export const APPROVAL_DECISIONS = ['approved', 'denied'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

/**
 * Why a decision or a use was refused, for a door that answers by kind (HTTP: 404, 409, 403); the CLI prints the
 * message as any config error.
 */
export class ApprovalRefused extends RuralHubError {
  constructor(
    readonly why: 'not_found' | 'state' | 'same_principal' | 'role' | 'scope',
    message: string,
  ) {
    super('config', message);
    this.name = 'ApprovalRefused';
  }
}

/** Where an approval stands at a moment: derived from its row and the time, never stored. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'used' | 'expired';

/**
 * Who asks or decides. `id` is what the table records and compares (`cli:NAME`, `token:ID`); `role` is what may
 * decide (only `bureau`); the rest goes to the audit row.
 */
export interface ApprovalPrincipal {
  id: string;
  role: string;
  /** The audit row's actor (for a token: `token:ID (label)`, as every other API audit row names it). */
  actor: string;
  department?: string | null;
  clientAddr?: string | null;
}

/**
 * The command line's principal: the name the operator gives with `--by`. A name, not the OS user: the bureau's
 * operators often share one service account, and the point is to record which person asked and which decided.
 */
export function cliPrincipal(name: string | undefined, option = '--by'): ApprovalPrincipal {
  const n = name?.trim() ?? '';
  if (!/^[\p{L}\p{N}][\p{L}\p{N}._@-]{0,59}$/u.test(n))
    throw configError(
      `${option}: the name of the person acting (letters, digits, . _ @ -; up to 60), got '${name ?? ''}'`,
    );
  // The CLI acts with the warehouse's own rights: a bureau-level operator, as its other audit rows say.
  return { id: `cli:${n}`, role: 'bureau', actor: `cli:${n}` };
}

/** An API or console token's principal; the token id is the identity, the label only helps a reader. */
export function tokenPrincipal(t: {
  tokenId: number;
  role: string;
  label: string | null;
  department: string | null;
  clientAddr?: string | null;
}): ApprovalPrincipal {
  return {
    id: `token:${t.tokenId}`,
    role: t.role,
    actor: `token:${t.tokenId}${t.label ? ` (${t.label})` : ''}`,
    department: t.department,
    clientAddr: t.clientAddr ?? null,
  };
}

type ApprovalRow = Selectable<ApprovalsTable>;
export type Approval = Omit<ApprovalRow, 'kind' | 'scope'> & {
  kind: ApprovalKind;
  scope: Record<string, unknown>;
};

export function approvalStatus(a: Approval, now: Date): ApprovalStatus {
  if (a.used_at) return 'used';
  if (a.decision === 'denied') return 'denied';
  if (a.expires_at.getTime() <= now.getTime()) return 'expired';
  return a.decision === 'approved' ? 'approved' : 'pending';
}

const toApproval = (r: ApprovalRow): Approval => ({
  ...r,
  id: Number(r.id),
  kind: r.kind as ApprovalKind,
  scope: r.scope as Record<string, unknown>,
});

export interface RequestInput {
  kind: ApprovalKind;
  scope: Record<string, unknown>;
  by: ApprovalPrincipal;
  reason: string;
  /** How long the request, and the approval it may become, stays usable (config approvals.valid_hours). */
  validHours: number;
  now: Date;
}

/** Records a request; returns it (pending). */
export async function requestApproval(db: Kysely<Database>, r: RequestInput): Promise<Approval> {
  const reason = r.reason.trim();
  if (reason.length < 2) throw configError('--reason: say why the bulk operation is needed');
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('approvals')
      .values({
        kind: r.kind,
        scope: JSON.stringify(r.scope),
        requested_by: r.by.id,
        reason,
        requested_at: r.now,
        expires_at: new Date(r.now.getTime() + r.validHours * 3_600_000),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const a = toApproval(row);
    await writeAudit(trx, {
      ...auditWho(r.by),
      action: 'approvals.request',
      target: String(a.id),
      rowCount: rowsOf(a),
      details: { kind: a.kind, scope: a.scope, reason },
    });
    return a;
  });
}

export interface DecideInput {
  id: number;
  decision: ApprovalDecision;
  by: ApprovalPrincipal;
  reason?: string;
  now: Date;
}

/**
 * Approves or denies a pending request. Refused (config error, one line) when it does not exist, is decided
 * already, has expired, or the decider is the requester or not of the bureau.
 */
export async function decideApproval(db: Kysely<Database>, d: DecideInput): Promise<Approval> {
  return db.transaction().execute(async (trx) => {
    const a = await lockApproval(trx, d.id);
    const status = approvalStatus(a, d.now);
    if (status !== 'pending')
      throw new ApprovalRefused('state', `approval ${a.id} is ${status}: it cannot be decided now`);
    if (d.by.id === a.requested_by)
      throw new ApprovalRefused(
        'same_principal',
        `approval ${a.id} was requested by ${a.requested_by}: another person must decide it (four eyes)`,
      );
    if (d.by.role !== 'bureau')
      throw new ApprovalRefused(
        'role',
        `approval ${a.id}: only the bureau decides approvals, not a ${d.by.role} token`,
      );
    const row = await trx
      .updateTable('approvals')
      .set({
        decided_by: d.by.id,
        decision: d.decision,
        decided_at: d.now,
        decision_reason: d.reason?.trim() || null,
      })
      .where('id', '=', a.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const decided = toApproval(row);
    await writeAudit(trx, {
      ...auditWho(d.by),
      action: d.decision === 'approved' ? 'approvals.approve' : 'approvals.deny',
      target: String(a.id),
      rowCount: rowsOf(decided),
      details: {
        kind: a.kind,
        requested_by: a.requested_by,
        ...(decided.decision_reason ? { reason: decided.decision_reason } : {}),
      },
    });
    return decided;
  });
}

export interface ConsumeInput {
  id: number;
  kind: ApprovalKind;
  /** Whether the approved scope covers what is about to run; a reason in words when it does not. */
  covers: (scope: Record<string, unknown>) => string | null;
  now: Date;
}

/**
 * Marks an approved, unexpired, unused approval of this kind used, if its scope covers the operation; else a config
 * error in one line. Call it in the transaction of the operation's own audit row, so an approval is used exactly
 * when the export it allowed is recorded.
 */
export async function consumeApproval(db: Kysely<Database>, c: ConsumeInput): Promise<Approval> {
  const a = await lockApproval(db, c.id);
  if (a.kind !== c.kind) throw configError(`approval ${a.id} is for ${a.kind}, not ${c.kind}`);
  const status = approvalStatus(a, c.now);
  if (status !== 'approved')
    throw configError(
      status === 'used'
        ? `approval ${a.id} was already used (${a.used_at?.toISOString()}): an approval allows one run; request a new one`
        : `approval ${a.id} is ${status}, not approved`,
    );
  const why = c.covers(a.scope);
  if (why) throw configError(`approval ${a.id} does not cover this run: ${why}`);
  // `used_at IS NULL` again: the row lock of lockApproval is held only inside a transaction; this guard makes
  // two concurrent uses outside one still end with one winner.
  const row = await db
    .updateTable('approvals')
    .set({ used_at: c.now })
    .where('id', '=', a.id)
    .where('used_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw configError(`approval ${a.id} was already used: request a new one`);
  return toApproval(row);
}

async function lockApproval(db: Kysely<Database>, id: number): Promise<Approval> {
  const row = await db
    .selectFrom('approvals')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new ApprovalRefused('not_found', `no approval ${id}`);
  return toApproval(row);
}

export async function getApproval(db: Kysely<Database>, id: number): Promise<Approval | null> {
  const row = await db.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toApproval(row) : null;
}

/** Approvals newest first; `open` only those still pending or approved and unused (not expired). */
export async function listApprovals(
  db: Kysely<Database>,
  o: { open?: boolean; kind?: ApprovalKind; now: Date; limit?: number },
): Promise<Approval[]> {
  let q = db.selectFrom('approvals').selectAll();
  if (o.kind) q = q.where('kind', '=', o.kind);
  if (o.open)
    q = q
      .where('used_at', 'is', null)
      .where((eb) => eb.or([eb('decision', 'is', null), eb('decision', '=', 'approved')]))
      .where('expires_at', '>', o.now);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(o.limit ?? 200)
    .execute();
  return rows.map(toApproval);
}

/** The audit row's who, from a principal. */
export const auditWho = (p: ApprovalPrincipal) => ({
  actor: p.actor,
  role: p.role,
  department: p.department ?? null,
  clientAddr: p.clientAddr ?? null,
});

/** The number of rows (or lookups) a scope covers, for the audit row's count. */
function rowsOf(a: Approval): number {
  const n = a.scope.rows ?? a.scope.lookups;
  return typeof n === 'number' ? n : 0;
}

/** Parses an approval id the way every door takes it. */
export function approvalId(text: string | undefined, option = '--approval'): number {
  if (!text || !/^[0-9]{1,15}$/.test(text))
    throw configError(`${option}: expected an approval id (a number), got '${text ?? ''}'`);
  return Number(text);
}
