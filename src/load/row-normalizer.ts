/**
 * The bulk path's normalization in Node: a batch of a delimited file's records (bytes) in, rows of normalized
 * staging out in binary COPY form — exactly the rows the SQL statement of src/load/normalize-staged.ts makes
 * from the same records (the same normalized values, problems, skip marks and row hash bytes), through the
 * TypeScript twins of its SQL normalizers. Runs on the hashing thread (src/load/hash-thread.mjs) and, when
 * that one is behind, on the main thread; pure, so both run the same code.
 *
 * The records are parsed as PostgreSQL's CSV parser parses them (COPY … FORMAT csv, the staging the SQL path
 * reads): an unquoted empty field is NULL, a quote toggles quoting anywhere in a field, two quotes inside quotes
 * are one (the record splitter lets through only quotes that open or close a field: src/load/record-splitter.ts).
 * What PostgreSQL's parser refuses — invalid UTF-8, a NUL, a row of another width, an unterminated quote, a
 * carriage return outside quotes — throws CopyFormatError with the SQLSTATE it would have raised, so the
 * loader reads the file row by row, as it does when COPY refuses it.
 *
 * A value the twins cannot answer for as PostgreSQL would (a vocabulary lookup of letters whose upper case
 * depends on the server's locale) sends its row to SQL: the row goes to raw staging only, and the SQL statement
 * normalizes it there. Raw staging also gets every row the normalized one rejects (quarantine, identity linking
 * and review read their raw values); nothing else.
 */
import { isUtf8 } from 'node:buffer';
import { createMD5, createXXHash128, type IHasher } from 'hash-wasm';
import { footerKind, SHAPE_PREFIX_PATTERN } from '../../connectors/row-shape.ts';
import { booleanOfKey } from '../normalize/boolean.ts';
import { parseDate } from '../normalize/date.ts';
import { normalizeIdNumber } from '../normalize/id-number.ts';
import { parseInteger } from '../normalize/integer.ts';
import { parseMoney } from '../normalize/money.ts';
import { normalizeName } from '../normalize/name.ts';
import { VALIDATING_KINDS } from '../normalize/patterns.ts';
import { isSpaceAt, normalizeText, textKey } from '../normalize/text.ts';
import { parseYear } from '../normalize/year.ts';
import { BinaryRows, writeUtf8 } from './copy-binary.ts';

/** Field kinds (FieldType['kind'] of schemas/feed.ts, restated: this module is loaded by a worker thread). */
export type RowFieldKind =
  | 'id_number'
  | 'name'
  | 'text'
  | 'date'
  | 'money'
  | 'integer'
  | 'year'
  | 'boolean'
  | 'enum';

export interface RowField {
  name: string;
  kind: RowFieldKind;
  /** 0-based column of the file, or null when the file has none for the field. */
  col: number | null;
  /** The problem code of an empty value (required fields), or null. */
  missing: string | null;
  /** enum: lookup key (vocabularyKey of a spelling) → canonical value, the first spelling of a key winning. */
  vocabulary?: readonly (readonly [string, string])[];
}

/** The regions table as the region checks read it (normalize-staged.ts regionProblems); null when it is empty. */
export interface RegionSets {
  /** township name → how many townships carry it */
  townships: Readonly<Record<string, number>>;
  villages: readonly string[];
  /** `${parent name}\t${village name}` → how many villages under a parent of that name carry the name */
  pairs: Readonly<Record<string, number>>;
  villageCodes: readonly string[];
}

/** Everything a batch's rows depend on besides their bytes: the same for every batch of a load. */
export interface RowPlan {
  width: number;
  /** The delimiter's byte. */
  delimiter: number;
  /** Rows above the first record (the header line): row_number = record number + headerRow. */
  headerRow: number;
  today: string;
  timeZone: string;
  fields: readonly RowField[];
  regions: RegionSets | null;
  /** The feed links identities: normalized staging has id_link, link_fp and link_keys after the ranks. */
  identity: boolean;
  /** The line hash's 64-bit seed (src/load/line-hasher.ts), for batches whose hashes are not given. */
  seed: readonly [number, number];
  /** The business key's fields, as indexes into `fields`: each valid row's key is hashed into RowOutput.keys. */
  key: readonly number[];
}

/** A batch of records: bytes[starts[i], ends[i]) is record number recNos[i], line hash hashes[16i, 16i + 16). */
export interface RowBatch {
  bytes: Uint8Array<ArrayBuffer>;
  starts: Int32Array<ArrayBuffer>;
  ends: Int32Array<ArrayBuffer>;
  recNos: Float64Array<ArrayBuffer>;
  /** null: hashed here. */
  hashes: Uint8Array<ArrayBuffer> | null;
}

/** A batch normalized: binary COPY rows (no header or trailer) for normalized and raw staging. */
export interface RowOutput {
  norm: Uint8Array<ArrayBuffer>;
  raw: Uint8Array<ArrayBuffer>;
  rows: number;
  /** Record numbers of the rows left to the SQL normalizer (in raw staging only). */
  toSql: number[];
  /**
   * A 53-bit hash of each valid row's business key (its values' row text), in order: the stager learns from them
   * whether any key occurs twice (src/load/key-set.ts), and when none does the ranking statement is not run.
   */
  keys: Float64Array<ArrayBuffer>;
}

/** What PostgreSQL's COPY would have refused, with its SQLSTATE (class 22: the loader then reads row by row). */
export class CopyFormatError extends Error {
  constructor(
    readonly code: '22P04' | '22021',
    message: string,
  ) {
    super(message);
  }
}

const SHAPE_PREFIX = new RegExp(SHAPE_PREFIX_PATTERN);
const QUOTE = 0x22;
const CR = 0x0d;

/** A value whose normalization is left to SQL. */
const TO_SQL = Symbol('to SQL');

/**
 * Whether upper-casing `key` is the same in JavaScript and in any PostgreSQL locale: ASCII letters and characters
 * without case only (是, √, digits). A letter like é or ß is upper-cased by the server's locale: left to SQL.
 */
function caseSafe(key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x80) continue;
    const ch = key[i]!;
    if (ch.toUpperCase() !== ch || ch.toLowerCase() !== ch) return false;
  }
  return true;
}

/**
 * Answers of a vocabulary lookup by the value's key: a column of a closed vocabulary holds few distinct values,
 * and working each out again (white space, case) cost more than the rest of the row. Bounded: a column of
 * free-form junk does not grow it without end.
 */
class KeyCache {
  private readonly known = new Map<string, string | null | typeof TO_SQL>();
  constructor(private readonly answer: (raw: string) => string | null | typeof TO_SQL) {}
  get(raw: string | null): string | null | typeof TO_SQL {
    if (raw === null) return null;
    let v = this.known.get(raw);
    if (v === undefined) {
      v = this.answer(raw);
      if (this.known.size < 4096) this.known.set(raw, v);
    }
    return v;
  }
}

/** A value's text in a row's text form (record_out): quoted when empty or holding `"\(),` or ASCII white space. */
const NEEDS_QUOTES = /["\\(),\t\n\v\f\r ]/;
function rowText(v: string): string {
  if (v !== '' && !NEEDS_QUOTES.test(v)) return v;
  return `"${v.replace(/["\\]/g, '$&$&')}"`;
}

/**
 * A row's text form (record_out: `(v1,v2,…)`), whose MD5 is the row hash, as UTF-8 bytes written value by value,
 * with each field's bytes remembered for the business key's hash. Bytes, not a string joined from parts and then
 * encoded for MD5: a text value is encoded once, here, and its bytes copied into the COPY row (joining and
 * encoding cost ~0.3 µs of a roster row's ~7, measured).
 */
class RowTextBytes {
  bytes = Buffer.allocUnsafe(1024);
  length = 0;
  /** Per field: its bytes' start and end. */
  readonly starts: Int32Array;
  readonly ends: Int32Array;

  constructor(fields: number) {
    this.starts = new Int32Array(fields);
    this.ends = new Int32Array(fields);
  }

  begin(): void {
    this.length = 0;
    this.bytes[this.length++] = 0x28; // (
  }

  /** Starts field f: after a comma unless it is the first. */
  field(f: number): void {
    this.room(1);
    if (f > 0) this.bytes[this.length++] = 0x2c; // ,
    this.starts[f] = this.length;
  }

  endField(f: number): void {
    this.ends[f] = this.length;
  }

  string(v: string): void {
    this.room(3 * v.length);
    this.length += writeUtf8(this.bytes, v, this.length);
  }

  /** The whole row text, closed (a view, valid until the next row). */
  finish(): Uint8Array {
    this.room(1);
    this.bytes[this.length++] = 0x29; // )
    return this.bytes.subarray(0, this.length);
  }

  private room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.length + n));
    this.bytes.copy(bigger, 0, 0, this.length);
    this.bytes = bigger;
  }
}

/** numeric(14,2) as PostgreSQL prints it: no leading zeros, two decimals, no minus on zero. */
const PLAIN_CENTS = /^[1-9][0-9]*\.[0-9]{2}$/;
function moneyText(v: string): string {
  if (PLAIN_CENTS.test(v)) return v; // most values: written as the column prints them
  const negative = v.startsWith('-');
  const [whole = '', fraction = ''] = (negative ? v.slice(1) : v).split('.');
  const int = whole.replace(/^0+(?=[0-9])/, '') || '0';
  const cents = fraction.padEnd(2, '0');
  const zero = /^0*$/.test(int + cents);
  return `${negative && !zero ? '-' : ''}${int}.${cents}`;
}

export class RowNormalizer {
  private readonly out = new BinaryRows();
  private readonly rawOut = new BinaryRows(1 << 16);
  private readonly cells: (string | null)[];
  private readonly normalized: (string | null)[];
  /** The enum and boolean fields' lookups (by field). */
  private readonly lookups: (KeyCache | null)[];
  /** The row's text form (record_out), whose MD5 is the row hash, as bytes. */
  private readonly rowText: RowTextBytes;
  /** Per field: a kind whose normalizer answers '!problem' for an invalid value (VALIDATING_KINDS). */
  private readonly validating: readonly boolean[];
  private readonly villages: ReadonlySet<string>;
  private readonly villageCodes: ReadonlySet<string>;
  private readonly fieldIndex: Readonly<Record<string, number>>;
  private readonly delimiterChar: string;
  /** The batch's valid rows' key hashes so far (RowOutput.keys), and how many. */
  private keyHashes = new Float64Array(0);
  private keyCount = 0;

  private constructor(
    private readonly plan: RowPlan,
    private readonly md5: IHasher,
    private readonly lineHash: IHasher,
  ) {
    this.cells = new Array<string | null>(plan.width).fill(null);
    this.normalized = new Array<string | null>(plan.fields.length).fill(null);
    this.lookups = plan.fields.map((f) => {
      if (f.kind === 'boolean')
        return new KeyCache((raw) => {
          const key = textKey(raw);
          if (key !== null && !caseSafe(key)) return TO_SQL;
          const r = booleanOfKey(key === null ? null : key.toUpperCase());
          return r === null ? null : r.ok ? String(r.value) : `!${r.problem}`;
        });
      if (f.kind !== 'enum') return null;
      const m = new Map<string, string>();
      for (const [k, v] of f.vocabulary ?? []) if (!m.has(k)) m.set(k, v);
      return new KeyCache((raw) => {
        const key = textKey(raw);
        if (key === null) return null;
        if (!caseSafe(key)) return TO_SQL;
        return m.get(key.toUpperCase()) ?? '!value_not_in_vocabulary';
      });
    });
    this.rowText = new RowTextBytes(plan.fields.length);
    this.validating = plan.fields.map((f) => VALIDATING_KINDS.has(f.kind));
    this.villages = new Set(plan.regions?.villages ?? []);
    this.villageCodes = new Set(plan.regions?.villageCodes ?? []);
    this.fieldIndex = Object.fromEntries(plan.fields.map((f, i) => [f.name, i]));
    this.delimiterChar = String.fromCharCode(plan.delimiter);
  }

  static async create(plan: RowPlan): Promise<RowNormalizer> {
    return new RowNormalizer(plan, await createMD5(), await createXXHash128(plan.seed[0], plan.seed[1]));
  }

  normalize(batch: RowBatch): RowOutput {
    const { bytes, starts, ends, recNos } = batch;
    const n = starts.length;
    if (n === 0)
      return {
        norm: new Uint8Array(0),
        raw: new Uint8Array(0),
        rows: 0,
        toSql: [],
        keys: new Float64Array(0),
      };
    const from = starts[0]!;
    const to = ends[n - 1]!;
    // PostgreSQL checks a line's encoding before it parses it: invalid UTF-8 or a NUL refuses the file.
    const region = bytes.subarray(from, to);
    if (!isUtf8(region)) throw new CopyFormatError('22021', 'invalid byte sequence for encoding "UTF8"');
    if (region.indexOf(0) >= 0)
      throw new CopyFormatError('22021', 'invalid byte sequence for encoding "UTF8": 0x00');
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let rows = 0;
    const toSql: number[] = [];
    this.keyCount = 0;
    if (this.keyHashes.length < n) this.keyHashes = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.parse(buf, starts[i]!, ends[i]!);
      let hash: Uint8Array;
      if (batch.hashes) hash = batch.hashes.subarray(16 * i, 16 * i + 16);
      else {
        this.lineHash.init();
        this.lineHash.update(buf.subarray(starts[i]!, ends[i]!));
        hash = this.lineHash.digest('binary');
      }
      if (this.row(recNos[i]!, hash)) rows++;
      else toSql.push(recNos[i]!);
    }
    return {
      norm: this.out.take(),
      raw: this.rawOut.take(),
      rows,
      toSql,
      keys: this.keyHashes.slice(0, this.keyCount),
    };
  }

  /**
   * Cells of record buf[start, end) into this.cells, as PostgreSQL's CSV parser reads them: one pass over the
   * bytes (an indexOf per record would search the whole batch past the record for a quote that is not there).
   */
  private parse(buf: Buffer, start: number, end: number): void {
    const { width, delimiter } = this.plan;
    const cells = this.cells;
    if (start === end) {
      // An empty line: staged as a row of NULLs (recognize.ts), a blank row.
      cells.fill(null);
      return;
    }
    // Most records: no quote, no carriage return — decoded once and split at the delimiter (an ASCII byte never
    // inside a multi-byte UTF-8 character), empty fields NULL.
    const line = buf.toString('utf8', start, end);
    if (line.indexOf('"') < 0 && line.indexOf('\r') < 0) {
      const parts = line.split(this.delimiterChar);
      if (parts.length > width) throw extraData();
      if (parts.length < width)
        throw new CopyFormatError('22P04', `missing data for column "c${parts.length + 1}"`);
      for (let i = 0; i < width; i++) {
        const v = parts[i]!;
        cells[i] = v === '' ? null : v;
      }
      return;
    }
    let field = 0;
    let at = start;
    for (;;) {
      // One field: unquoted runs and quoted runs, until a delimiter outside quotes or the record's end.
      const fieldStart = at;
      let quoted: Buffer[] | null = null;
      let runStart = at;
      while (at < end) {
        const c = buf[at]!;
        if (c === delimiter) break;
        if (c === CR) throw literalCr();
        if (c !== QUOTE) {
          at++;
          continue;
        }
        // A quote: up to the closing one, two quotes inside being one.
        quoted ??= [];
        quoted.push(buf.subarray(runStart, at));
        at++;
        runStart = at;
        for (;;) {
          if (at >= end) throw new CopyFormatError('22P04', 'unterminated CSV quoted field');
          if (buf[at] !== QUOTE) {
            at++;
            continue;
          }
          if (at + 1 < end && buf[at + 1] === QUOTE) {
            quoted.push(buf.subarray(runStart, at + 1)); // one quote of the two
            at += 2;
            runStart = at;
            continue;
          }
          quoted.push(buf.subarray(runStart, at));
          at++;
          runStart = at;
          break;
        }
      }
      if (field >= width) throw extraData();
      if (quoted === null) cells[field++] = at === fieldStart ? null : buf.toString('utf8', fieldStart, at);
      else {
        quoted.push(buf.subarray(runStart, at));
        cells[field++] = Buffer.concat(quoted).toString('utf8');
      }
      if (at >= end) break;
      at++; // past the delimiter
    }
    if (field < width) throw new CopyFormatError('22P04', `missing data for column "c${field + 1}"`);
  }

  /** The row of this.cells: its normalized row, or (left to SQL) its raw row only. False when left to SQL. */
  private row(recNo: number, rawHash: Uint8Array): boolean {
    const { fields } = this.plan;
    const cells = this.cells;
    const n = this.normalized;
    let toSql = false;
    for (let f = 0; f < fields.length; f++) {
      const spec = fields[f]!;
      const v = this.value(spec, f, spec.col === null ? null : (cells[spec.col] ?? null));
      if (v === TO_SQL) {
        toSql = true;
        break;
      }
      n[f] = v;
    }
    if (toSql) {
      this.writeRaw(recNo, rawHash);
      return false;
    }
    let first: string | null = null;
    for (const c of cells)
      if (c !== null) {
        first = c;
        break;
      }
    // footerKind looks at the first cell's key (white space removed) first: a cell that begins with neither white
    // space nor a character a totals or footer label begins with is a data row's, without building that key.
    const skip =
      first === null ? 'blank' : !isSpaceAt(first, 0) && !SHAPE_PREFIX.test(first) ? null : footerKind(cells);

    const problems: string[] = [];
    for (let f = 0; f < fields.length; f++) {
      const spec = fields[f]!;
      const v = n[f] ?? null;
      if (this.validating[f] && v !== null && v.charCodeAt(0) === 33 /* ! */)
        problems.push(`${spec.name}:${v.slice(1)}`);
      else if (spec.missing !== null && v === null) problems.push(`${spec.name}:${spec.missing}`);
    }
    this.regionProblems(problems);
    const ok = skip === null && problems.length === 0;

    const out = this.out;
    out.row(11 + fields.length + (this.plan.identity ? 3 : 0));
    out.int8(recNo);
    out.int4(recNo + this.plan.headerRow);
    out.null(); // sheet
    out.text(skip);
    out.bytea(rawHash);
    out.bool(false); // known: the bulk path recognised before staging
    const text = this.rowText;
    text.begin();
    for (let f = 0; f < fields.length; f++) {
      const spec = fields[f]!;
      let v = n[f] ?? null;
      if (v !== null && this.validating[f] && v.charCodeAt(0) === 33) v = null;
      text.field(f);
      if (v === null) out.null();
      else
        switch (spec.kind) {
          case 'date':
            out.date(v);
            text.string(v);
            break;
          case 'money':
            out.numeric(v, 2);
            text.string(moneyText(v));
            break;
          case 'integer':
          case 'year': {
            const i = Number(v);
            out.int4(i);
            text.string(String(i));
            break;
          }
          case 'boolean':
            out.bool(v === 'true');
            text.string(v === 'true' ? 't' : 'f');
            break;
          default:
            if (v !== '' && !NEEDS_QUOTES.test(v)) {
              // Most values: their row text is the value itself, encoded once for both.
              const at = text.length;
              text.string(v);
              out.textBytes(text.bytes, at, text.length);
            } else {
              out.text(v);
              text.string(rowText(v));
            }
        }
      text.endField(f);
    }
    const md5 = this.md5;
    md5.init();
    md5.update(text.finish());
    if (ok) this.keyHashes[this.keyCount++] = keyHash(this.plan.key, text);
    out.textArray(problems);
    out.bool(ok);
    out.bytea(md5.digest('binary'));
    out.int8(1); // rn, hrn: ranked later (rankDuplicates)
    out.int8(1);
    if (this.plan.identity) {
      out.null();
      out.null();
      out.null();
    }
    // Quarantine, identity linking and review read a rejected row's raw values.
    if (skip === null && !ok) this.writeRaw(recNo, rawHash);
    return true;
  }

  /** The normalizer's answer in the SQL convention (value, '!problem' or null), or TO_SQL. */
  private value(spec: RowField, f: number, raw: string | null): string | null | typeof TO_SQL {
    switch (spec.kind) {
      case 'id_number': {
        const r = normalizeIdNumber(raw, { today: this.plan.today });
        return r.status === 'missing' ? null : (r.id ?? `!${r.problem}`);
      }
      case 'name':
        return normalizeName(raw);
      case 'text':
        return normalizeText(raw);
      case 'date':
        return result(parseDate(raw, this.plan.timeZone));
      case 'money':
        return result(parseMoney(raw));
      case 'integer':
        return result(parseInteger(raw));
      case 'year':
        return result(parseYear(raw));
      case 'boolean':
      case 'enum':
        return this.lookups[f]!.get(raw);
    }
  }

  /** The region checks of normalize-staged.ts (regionProblems), on the normalized values. */
  private regionProblems(problems: string[]): void {
    const r = this.plan.regions;
    if (!r) return;
    const at = this.fieldIndex;
    const township = at.township === undefined ? null : (this.normalized[at.township] ?? null);
    const village = at.village === undefined ? null : (this.normalized[at.village] ?? null);
    const code = at.village_code === undefined ? null : (this.normalized[at.village_code] ?? null);
    if (township != null) {
      const count = r.townships[township];
      if (count === undefined) problems.push('township:region_unknown');
      else if (count > 1) problems.push('township:region_ambiguous');
    }
    if (village != null) {
      const pair = township != null ? r.pairs[`${township}\t${village}`] : undefined;
      if (township != null && pair === undefined) problems.push('village:region_unknown');
      else if (township != null && pair !== undefined && pair > 1) problems.push('village:region_ambiguous');
      else if (!this.villages.has(village)) problems.push('village:region_unknown');
    }
    if (code != null && !this.villageCodes.has(code)) problems.push('village_code:region_unknown');
  }

  /** The record's raw row: rec_no, raw_hash, c1..cN (raw staging's COPY column list). */
  private writeRaw(recNo: number, rawHash: Uint8Array): void {
    const o = this.rawOut;
    o.row(2 + this.plan.width);
    o.int8(recNo);
    o.bytea(rawHash);
    for (const c of this.cells) o.text(c);
  }
}

/**
 * A 53-bit hash (cyrb53) of a row's business key: its fields' row text bytes (canonical, as PostgreSQL prints the
 * values: equal values, equal text; an empty text is "", NULL nothing), each followed by a separator. Equal keys
 * hash alike; unequal ones alike only by chance (or a separator inside a value), which costs no more than running
 * the ranking statement.
 */
function keyHash(key: readonly number[], text: RowTextBytes): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  const bytes = text.bytes;
  for (let k = 0; k < key.length; k++) {
    const end = text.ends[key[k]!]!;
    for (let i = text.starts[key[k]!]!; i <= end; i++) {
      const c = i < end ? bytes[i]! : 0x1f;
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

const result = (r: { ok: true; value: string } | { ok: false; problem: string } | null): string | null =>
  r === null ? null : r.ok ? r.value : `!${r.problem}`;

const literalCr = () => new CopyFormatError('22P04', 'literal carriage return found in data');
const extraData = () => new CopyFormatError('22P04', 'extra data after last expected column');
