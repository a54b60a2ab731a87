/**
 * The server settings a warehouse's loads depend on, compared with the ones the embedded server runs with
 * (WAREHOUSE_SETTINGS). Advice for `ruralhub status`, not a failure: a server with PostgreSQL's defaults works,
 * only slower — measured on a 1 %-changed 2M-row roster, inserting its 20k changed rows took 4.8 s with 128 MB of
 * shared buffers against 0.9 s with 512 MB, and its WAL was 312 MB instead of 17 MB with checkpoints 1 GB apart.
 * WAL compression: the best method the server was built with (`enumvals`), zstd or lz4 before pglz (`on`). A
 * monthly load meets a server that has checkpointed since the last one, so the first change to each page it
 * touches logs the whole page: the same 1 %-changed roster after a CHECKPOINT on PostgreSQL 15 published in
 * 3.3–4.3 s with pglz, 1.4–2.2 s with lz4 and 1.8–2.1 s with zstd, whose WAL was the smallest (68–74 MiB against
 * 90–114). The embedded server's build has pglz only.
 */
import { type Kysely, sql } from 'kysely';
import { WAREHOUSE_SETTINGS } from './embedded.ts';
import type { Database } from './schema.ts';

export interface SettingAdvice {
  setting: string;
  value: string;
  recommended: string;
  ok: boolean;
}

/** The settings compared: sizes at least the recommended one; wal_compression the best the server offers. */
const SIZE_SETTINGS = ['shared_buffers', 'max_wal_size'] as const;

const UNIT_BYTES: Readonly<Record<string, number>> = {
  B: 1,
  kB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
};

/** '512MB' → bytes; pg_settings' units too ('8kB': blocks of 8 kB, 'MB'). */
export function sizeBytes(text: string): number {
  const m = /^(\d*)\s*(B|kB|MB|GB|TB)$/.exec(text.trim());
  if (!m) throw new Error(`not a size: ${text}`);
  return Number(m[1] || 1) * UNIT_BYTES[m[2]!]!;
}

export interface PgSetting {
  name: string;
  setting: string;
  unit: string | null;
  /** An enum setting's values, as this server offers them (wal_compression's depend on how it was built). */
  enumvals?: readonly string[] | null;
}

/** WAL compression methods, best first (`on` is pglz). */
const WAL_COMPRESSION_BEST = ['zstd', 'lz4'] as const;

export function adviseSettings(rows: readonly PgSetting[]): SettingAdvice[] {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const advice: SettingAdvice[] = [];
  for (const name of SIZE_SETTINGS) {
    const row = byName.get(name);
    const recommended = WAREHOUSE_SETTINGS[name]!;
    if (!row) continue;
    // pg_settings gives a count of its unit: '16384' of '8kB' for 128 MB.
    const bytes = Number(row.setting) * sizeBytes(row.unit ?? 'B');
    advice.push({ setting: name, value: human(bytes), recommended, ok: bytes >= sizeBytes(recommended) });
  }
  const compression = byName.get('wal_compression');
  if (compression) {
    // PostgreSQL 14 and before: a boolean (no enumvals), pglz.
    const offered: string[] = WAL_COMPRESSION_BEST.filter((m) => compression.enumvals?.includes(m));
    const recommended = offered[0] ?? WAREHOUSE_SETTINGS.wal_compression!;
    advice.push({
      setting: 'wal_compression',
      value: compression.setting,
      recommended,
      ok: offered.length ? offered.includes(compression.setting) : compression.setting !== 'off',
    });
  }
  return advice;
}

function human(bytes: number): string {
  for (const unit of ['TB', 'GB', 'MB', 'kB'] as const) {
    const n = bytes / UNIT_BYTES[unit]!;
    if (n >= 1 && Number.isInteger(n)) return `${n}${unit}`;
  }
  return `${bytes}B`;
}

export async function serverSettings(db: Kysely<Database>): Promise<SettingAdvice[]> {
  const names = [...SIZE_SETTINGS, 'wal_compression'];
  const rows = await sql<PgSetting>`SELECT name, setting, unit, enumvals FROM pg_settings
    WHERE name IN (${sql.join(names.map((n) => sql.lit(n)))})`.execute(db);
  return adviseSettings(rows.rows);
}
