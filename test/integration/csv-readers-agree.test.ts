/**
 * A CSV file is read by one of two readers: the bulk path (the record splitter, then PostgreSQL's CSV parser or
 * its Node twin) or, when the bulk path gives the file up, the record reader (csv-parse). Whichever reads it, the
 * values must be the same: a file's text may not depend on what else the file holds. Random files — fields
 * quoted as CSV quotes them or written as they are, with quotes, delimiters, line breaks, spaces and CJK inside —
 * go through both; wherever the bulk path takes a file, its rows are the record reader's, value for value.
 */
import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BulkSource } from '../../connectors/connector.ts';
import { csvConnector } from '../../connectors/csv/csv-connector.ts';
import { LineHasher } from '../../src/load/line-hasher.ts';
import { copyBulk, createRawTable, rawColumn } from '../../src/load/stage.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { tempDir } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

let wh: Warehouse;
const dir = tempDir('ruralhub-csv-readers-');
beforeAll(async () => {
  wh = await testWarehouse('csv_readers');
});
afterAll(async () => wh?.close());

const HEADER = ['甲', '乙', '丙'];
/** A cell's text: pieces that matter to a CSV parser, and some that do not. */
const text = fc
  .array(fc.constantFrom('a', '张', '𠀀', ' ', ',', '"', '""', '\n', '\r\n', 'x"y'), { maxLength: 4 })
  .map((p) => p.join(''));
/**
 * A cell as a file holds it: quoted as CSV quotes it, or its text as it is — mostly text a CSV needs not quote,
 * sometimes a quote too (then perhaps not well formed).
 */
const cell = fc.oneof(
  { weight: 3, arbitrary: text.map((t) => `"${t.replaceAll('"', '""')}"`) },
  { weight: 3, arbitrary: text.filter((t) => !/[\n\r,"]/.test(t)) },
  { weight: 1, arbitrary: text.filter((t) => !/[\n\r,]/.test(t)) },
);
const file = fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 12 });

/** Values as the loader compares them: white space at the ends is trimmed by every normalizer, empty is none. */
const value = (v: string | null | undefined) => {
  const t = (v ?? '').trim();
  return t === '' ? null : t;
};
const blank = (cells: readonly (string | null)[]) => cells.every((c) => c === null);

let n = 0;
async function bulkRows(path: string): Promise<(string | null)[][] | 'refused'> {
  const table = `t_agree_${++n}`;
  await createRawTable(wh.db, table, HEADER.length);
  const source: BulkSource = {
    encoding: 'UTF8',
    delimiter: ',',
    columns: HEADER,
    open: () => createReadStream(path), // the header line included: the splitter passes it over
  };
  const hasher = await LineHasher.create('fp-agree', false);
  const counts = { records: 0, recognized: 0, again: 0 };
  try {
    await copyBulk(wh.db, wh.pool, table, source, { set: null, counts, hasher, pass: null });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('22')) return 'refused';
    throw err;
  } finally {
    await hasher.close();
  }
  const cols = HEADER.map((_, i) => sql.ref(rawColumn(i)));
  const { rows } = await sql<Record<string, string | null>>`
    SELECT ${sql.join(cols)} FROM ${sql.id(table)} ORDER BY rec_no`.execute(wh.db);
  return rows.map((r) => HEADER.map((_, i) => value(r[rawColumn(i)])));
}

async function recordRows(path: string): Promise<(string | null)[][] | 'problem'> {
  const out: (string | null)[][] = [];
  for await (const m of csvConnector.read({ path })) {
    if (m.type === 'problem') return 'problem';
    if (m.type === 'record') out.push(m.cells.map(value));
  }
  return out;
}

describe('the two CSV readers', () => {
  it('read the same values wherever the bulk path takes the file', async () => {
    let taken = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(file, async (rows) => {
        const path = join(dir, `f${n}.csv`);
        writeFileSync(path, `${HEADER.join(',')}\n${rows.map((r) => `${r.join(',')}\n`).join('')}`);
        const bulk = await bulkRows(path);
        if (bulk === 'refused') {
          refused++;
          return;
        }
        taken++;
        const records = await recordRows(path);
        expect(records).not.toBe('problem');
        expect(bulk.filter((r) => !blank(r))).toEqual(
          (records as (string | null)[][]).filter((r) => !blank(r)),
        );
      }),
      { numRuns: 150, seed: 20261204 },
    );
    // Both outcomes met: the property is not vacuous either way.
    expect(taken).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(20);
  });
});
