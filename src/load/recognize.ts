/**
 * Recognition of unchanged rows before they reach PostgreSQL, for delimited files read in bulk.
 *
 * A department re-sends its whole snapshot every month with a few rows changed. Each record of the file is
 * hashed in Node as it streams past (MD5 of a salt and its bytes); a record whose hash is that of a current
 * version is the very line that version was loaded from, so it is counted and dropped here — only the other
 * records are staged, normalized and diffed. What the loader learns about the dropped ones is kept in the set
 * (which current versions the file carried) and handed to SQL as the short list of those it did not carry.
 *
 * Every staged record carries its record number and hash in two leading columns, so the hash stored with a
 * version is the one the next load computes.
 */
import { hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { Database } from '../warehouse/schema.ts';
import { RAW_HASH_BYTES, RawHashSet } from './raw-hash-set.ts';

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/**
 * The current versions a load may recognise by raw hash (`alias` names the feed table). Versions linked to a
 * person by name and birth date (id_link) are not: their link is decided again with every load.
 */
export const recognizable = (feed: FeedDefinition, alias: string): RawBuilder<unknown> =>
  sql`(${sql.ref(`${alias}.valid_to`)} IS NULL AND ${sql.ref(`${alias}.raw_hash`)} IS NOT NULL${
    feed.identity ? sql` AND ${sql.ref(`${alias}.id_link`)} IS NULL` : sql``
  })`;

/** The hashes of the feed's recognizable current versions; null when there are none (a first load). */
export async function loadRecognizable(
  db: Kysely<Database>,
  pool: pg.Pool,
  feed: FeedDefinition,
  expected: number,
): Promise<RawHashSet | null> {
  if (expected <= 0) return null;
  const stmt = sql`COPY (SELECT f.raw_hash FROM ${sql.id(feed.id)} f WHERE ${recognizable(feed, 'f')})
    TO STDOUT WITH (FORMAT binary)`.compile(db);
  const set = new RawHashSet(expected);
  const client = await pool.connect();
  try {
    await pipeline(client.query(copyTo(stmt.sql)), binaryHashes(set));
  } finally {
    client.release();
  }
  return set.size ? set : null;
}

/** PostgreSQL's binary COPY of one bytea column: a 19-byte header, then per tuple int16 1, int32 16, 16 bytes. */
function binaryHashes(set: RawHashSet): Transform {
  const HEADER = 19;
  const TUPLE = 2 + 4 + RAW_HASH_BYTES;
  let rest: Buffer = Buffer.alloc(0);
  let headerDone = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      let buf: Buffer = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      if (!headerDone) {
        if (buf.length < HEADER) {
          rest = buf;
          return done();
        }
        buf = buf.subarray(HEADER);
        headerDone = true;
      }
      let at = 0;
      while (buf.length - at >= 2) {
        if (buf.readInt16BE(at) === -1) {
          at = buf.length; // trailer
          break;
        }
        if (buf.length - at < TUPLE) break;
        if (buf.readInt32BE(at + 2) !== RAW_HASH_BYTES) {
          return done(new Error('raw_hash of a current version is not an MD5 digest'));
        }
        set.add(buf, at + 6);
        at += TUPLE;
      }
      rest = Buffer.from(buf.subarray(at));
      done();
    },
  });
}

/** Copies the hashes no record of the file carried into `table` (one bytea column, raw_hash). */
export async function copyUnseen(
  db: Kysely<Database>,
  pool: pg.Pool,
  table: string,
  set: RawHashSet,
): Promise<void> {
  await sql`CREATE UNLOGGED TABLE ${sql.id(table)} (raw_hash bytea NOT NULL)`.execute(db);
  const stmt = sql`COPY ${sql.id(table)} (raw_hash) FROM STDIN`.compile(db);
  function* lines(): Generator<string> {
    let batch: string[] = [];
    for (const h of set.unseen()) {
      batch.push(`\\\\x${h.toString('hex')}\n`);
      if (batch.length === 4096) {
        yield batch.join('');
        batch = [];
      }
    }
    if (batch.length) yield batch.join('');
  }
  const client = await pool.connect();
  try {
    await pipeline(Readable.from(lines()), client.query(copyFrom(stmt.sql)));
  } finally {
    client.release();
  }
  await sql`ANALYZE ${sql.id(table)}`.execute(db);
}

export interface RecognitionCounts {
  /** Data records in the file (the header not counted). */
  records: number;
  /** Records whose hash is a current version's, first time seen: unchanged, not staged. */
  recognized: number;
  /** Further records with a hash already seen in this file: exact duplicates, not staged. */
  again: number;
}

/**
 * File bytes in (header line included, BOM excluded), staging CSV out: every record not recognised, with its
 * record number and raw hash in front. Records are split where PostgreSQL's CSV parser splits them — at a
 * newline outside quotes, every quote character toggling (so a quote inside an unquoted field behaves as
 * there). The line ending is not part of the hash: the same file saved with CRLF is recognised.
 */
export function recognizingStream(p: {
  salt: string;
  delimiter: string;
  width: number;
  set: RawHashSet | null;
  counts: RecognitionCounts;
}): Transform {
  const { set, counts, delimiter } = p;
  // The salt in front of every record's bytes; the record is copied in behind it (one hash call per record).
  const salt = Buffer.from(p.salt, 'utf8');
  let scratch = Buffer.alloc(salt.length + 4096);
  salt.copy(scratch);
  const blank = Buffer.from(delimiter.repeat(Math.max(0, p.width - 1)));
  const newline = Buffer.from('\n');
  let carry: Buffer = Buffer.alloc(0);
  let inQuote = false;
  let header = true;

  const hashOne = (buf: Buffer, from: number, to: number, out: Uint8Array, at: number): void => {
    const len = to - from;
    if (scratch.length < salt.length + len) {
      scratch = Buffer.alloc(2 * (salt.length + len));
      salt.copy(scratch);
    }
    buf.copy(scratch, salt.length, from, to);
    out.set(hash('md5', scratch.subarray(0, salt.length + len), 'buffer'), at);
  };

  /**
   * Hashes the records, looks them up and returns the staging bytes of those not recognised. (Hashing on a
   * worker thread was tried: two threads hashing in one process ran at half speed each — the OpenSSL calls
   * contend — so it gained nothing.)
   */
  const emit = (buf: Buffer, starts: number[], ends: number[]): Buffer | undefined => {
    const n = starts.length;
    const hashes = new Uint8Array(16 * n);
    for (let i = 0; i < n; i++) hashOne(buf, starts[i]!, ends[i]!, hashes, 16 * i);
    const out: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const recNo = ++counts.records;
      const h = hashes.subarray(16 * i, 16 * i + 16);
      const seen = set ? set.see(h, recNo) : 'absent';
      if (seen === 'first') counts.recognized++;
      else if (seen === 'again') counts.again++;
      else {
        const hex = Buffer.from(h.buffer, h.byteOffset, 16).toString('hex');
        out.push(Buffer.from(`${recNo}${delimiter}\\x${hex}${delimiter}`));
        // An empty line is a row of empty cells (a blank row, skipped and counted), not a COPY error.
        out.push(ends[i]! > starts[i]! ? buf.subarray(starts[i]!, ends[i]!) : blank, newline);
      }
    }
    return out.length ? Buffer.concat(out) : undefined;
  };

  /** Adds record [from, to) of buf, its line end left out (the header record is passed over). */
  const take = (buf: Buffer, from: number, to: number, starts: number[], ends: number[]): void => {
    const end = to > from && buf[to - 1] === CR ? to - 1 : to;
    if (header) {
      header = false;
      return;
    }
    starts.push(from);
    ends.push(end);
  };

  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      // The part of a record the last chunk ended in comes first; its quotes were counted then.
      const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const starts: number[] = [];
      const ends: number[] = [];
      let start = 0;
      let scan = carry.length;
      let nextQuote = buf.indexOf(QUOTE, scan);
      if (nextQuote < 0) nextQuote = buf.length;
      for (;;) {
        const nl = buf.indexOf(NL, scan);
        const end = nl < 0 ? buf.length : nl;
        while (nextQuote < end) {
          inQuote = !inQuote;
          nextQuote = buf.indexOf(QUOTE, nextQuote + 1);
          if (nextQuote < 0) nextQuote = buf.length;
        }
        if (nl < 0) break;
        scan = nl + 1;
        if (inQuote) continue; // a newline inside a quoted field
        take(buf, start, nl, starts, ends);
        start = nl + 1;
      }
      carry = Buffer.from(buf.subarray(start));
      done(null, emit(buf, starts, ends));
    },
    flush(done: TransformCallback) {
      const starts: number[] = [];
      const ends: number[] = [];
      if (carry.length) take(carry, 0, carry.length, starts, ends);
      done(null, emit(carry, starts, ends));
    },
  });
}

/**
 * What the bulk path recognised before staging; null on the record path and on a feed's first load.
 * `unseen` names the table of the recognizable current versions' hashes that no record of the file carried.
 */
export interface Recognized {
  unseen: string;
  set: RawHashSet;
  counts: RecognitionCounts;
  /** Recognised records put back into staging to meet a staged row of the same key (src/load/pull-in.ts). */
  pulledIn: number;
}

/**
 * The current versions the file carried unchanged (`alias` names the feed table): recognizable, and not among
 * the hashes the file did not carry. FALSE when nothing was recognised before staging.
 */
export const carried = (feed: FeedDefinition, alias: string, rec: Recognized | null): RawBuilder<unknown> =>
  rec
    ? sql`(${recognizable(feed, alias)} AND ${sql.ref(`${alias}.raw_hash`)} NOT IN (SELECT u.raw_hash FROM ${sql.id(rec.unseen)} u))`
    : sql`FALSE`;
