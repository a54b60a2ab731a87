import { hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { xxhash128 } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { firstPass } from '../../src/load/first-pass.ts';
import { LineHasher, lineSeed } from '../../src/load/line-hasher.ts';
import { ImageReader, RawHashSet, UnreadableImageError, writeId } from '../../src/load/raw-hash-set.ts';
import {
  type CurrentVersions,
  FileChangedError,
  packedVersions,
  type RecognitionCounts,
  stagingLines,
  unrecognizedRows,
} from '../../src/load/recognize.ts';
import { RecordSplitter } from '../../src/load/record-splitter.ts';

const md5 = (s: string) => hash('md5', s, 'buffer');

describe('the raw hash set', () => {
  it('tells first sightings from repeats and lists what no record carried, across growth', () => {
    const set = new RawHashSet(2); // far too small: it must grow
    const hashes = Array.from({ length: 1000 }, (_, i) => md5(`row ${i}`));
    for (const [i, h] of hashes.entries()) set.add(h, 0, 1000 + i); // version ids 1000…1999
    set.add(hashes[0]!, 0, 1000); // present already: not added twice
    expect(set.size).toBe(1000);
    expect(set.see(hashes[5]!, 7)).toBe('first');
    expect(set.see(hashes[5]!, 9)).toBe('again');
    expect(set.see(md5('not there'), 10)).toBe('absent');
    expect(set.recordOf(hashes[5]!)).toBe(7);
    expect(set.recordOf(hashes[6]!)).toBe(0);
    for (let i = 10; i < 1000; i++) set.see(hashes[i]!, i + 1);
    expect([...set.unseen()].sort()).toEqual([1000, 1001, 1002, 1003, 1004, 1006, 1007, 1008, 1009]);
  });

  it('removes hashes by version and keeps finding those placed after them, across growth', () => {
    const set = new RawHashSet(8); // small: removals happen inside probe sequences, and across the wrap
    const hashes = Array.from({ length: 300 }, (_, i) => md5(`row ${i}`));
    for (const [i, h] of hashes.entries()) set.add(h, 0, i + 1);
    const gone = new Set(Array.from({ length: 100 }, (_, k) => 3 * k + 1)); // every third version
    expect(set.remove(new Set([...gone, 999]))).toBe(100);
    expect(set.size).toBe(200);
    for (const [i, h] of hashes.entries())
      expect(set.see(h, i + 1)).toBe(gone.has(i + 1) ? 'absent' : 'first');
    set.add(hashes[0]!, 0, 1); // a removed hash is taken again
    expect(set.see(hashes[0]!, 500)).toBe('first');
    for (let i = 0; i < 400; i++) set.add(md5(`more ${i}`), 0, 1000 + i);
    expect(set.size).toBe(601);
    expect(set.see(hashes[3]!, 501)).toBe('absent');
    // Its image holds as many versions (a non-zero id per hash) as the set.
    const ids = new Float64Array(new Uint8Array(Buffer.concat(set.image().slice(2))).buffer);
    expect(ids.filter((id) => id !== 0).length).toBe(601);
  });

  it('agrees with a plain Map through random additions and removals', () => {
    const set = new RawHashSet(16);
    const model = new Map<number, Buffer>();
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 200; i++) {
        const id = 1 + (next() % 5000);
        if (model.has(id)) continue;
        const h = md5(`v${id}`);
        model.set(id, h);
        set.add(h, 0, id);
      }
      const gone = new Set([...model.keys()].filter(() => next() % 3 === 0));
      expect(set.remove(gone)).toBe(gone.size);
      for (const id of gone) model.delete(id);
      expect(set.size).toBe(model.size);
    }
    for (const [id, h] of model) expect(set.see(h, id)).toBe('first');
    for (let id = 1; id <= 5000; id++) if (!model.has(id)) expect(set.see(md5(`v${id}`), 1)).toBe('absent');
  });

  it('reads back from its image, delivered in pieces of any size, with its removals', () => {
    const set = new RawHashSet(100);
    const hashes = Array.from({ length: 100 }, (_, i) => md5(`row ${i}`));
    for (const [i, h] of hashes.entries()) set.add(h, 0, 2 ** 40 + i); // ids past 32 bits
    expect(set.remove(new Set([2 ** 40 + 7]))).toBe(1);
    const image = Buffer.concat(set.image());
    const reader = new ImageReader();
    for (let at = 0; at < image.length; at += 13) reader.push(image.subarray(at, at + 13));
    const { set: back, live } = reader.finish();
    expect(live).toBe(99);
    expect([...back.unseen()].sort((a, b) => a - b)).toEqual(
      hashes.map((_, i) => 2 ** 40 + i).filter((id) => id !== 2 ** 40 + 7),
    );
    expect(back.see(hashes[7]!, 1)).toBe('absent');
    expect(back.see(hashes[8]!, 1)).toBe('first');
    const foreign = Buffer.from(image);
    foreign.writeUInt32BE(foreign.readUInt32LE(0), 0); // the other byte order
    expect(() => new ImageReader().push(foreign)).toThrow('another byte order');
  });
});

/** PostgreSQL's binary COPY of rows (at int8, image, pairs, ids, removed), as the cache's reader gets it. */
function cacheCopy(rows: readonly (readonly [number | null, ...(Buffer | null)[]])[]): Buffer {
  const parts = [Buffer.from('PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0', 'latin1')];
  const int = (n: number, bytes: 2 | 4) => {
    const b = Buffer.alloc(bytes);
    if (bytes === 2) b.writeInt16BE(n);
    else b.writeInt32BE(n);
    return b;
  };
  for (const [at, ...values] of rows) {
    parts.push(int(5, 2));
    const position = at === null ? null : Buffer.alloc(8);
    if (position) writeId(position, 0, at!);
    for (const v of [position, ...values]) parts.push(v ? Buffer.concat([int(v.length, 4), v]) : int(-1, 4));
  }
  parts.push(int(-1, 2));
  return Buffer.concat(parts);
}

describe("the recognition cache's reader", () => {
  const hashes = Array.from({ length: 40 }, (_, i) => md5(`row ${i}`));
  const base = new RawHashSet(40);
  for (const [i, h] of hashes.entries()) base.add(h, 0, i + 1);
  const image = Buffer.concat(base.image());
  const slices = Array.from({ length: Math.ceil(image.length / 256) }, (_, i) =>
    image.subarray(256 * i, 256 * (i + 1)),
  );
  const pair = (h: Buffer, id: number) => {
    const b = Buffer.alloc(24);
    h.copy(b);
    writeId(b, 16, id);
    return b;
  };
  const ids = (...xs: number[]) => {
    const b = Buffer.alloc(8 * xs.length);
    for (const [k, id] of xs.entries()) writeId(b, 8 * k, id);
    return b;
  };
  // Newest first: step 3 removes version 2 (added by step 2 as well as the image), step 2 adds 41 and 42.
  const step3 = [3, null, null, null, ids(2, 41)] as const;
  const step2 = [
    2,
    null,
    Buffer.concat([pair(md5('new 41'), 41), pair(md5('new 42'), 42)]),
    null,
    null,
  ] as const;
  const read = async (rows: Parameters<typeof cacheCopy>[0]): Promise<CurrentVersions> => {
    const into: CurrentVersions = {
      set: new RawHashSet(0),
      unrecognizable: [],
      total: 0,
      fromCache: true,
      fromImage: false,
      steps: 0,
      entries: 0,
    };
    const bytes = cacheCopy(rows);
    // In 100-byte chunks, as a socket cuts them: slices and steps straddle chunks.
    const chunks = Array.from({ length: Math.ceil(bytes.length / 100) }, (_, i) =>
      bytes.subarray(100 * i, 100 * (i + 1)),
    );
    await pipeline(Readable.from(chunks), packedVersions(into, 0));
    return into;
  };

  it('takes the image slices in order, then the steps newest first', async () => {
    const got = await read([...slices.map((s, i) => [i, s, null, null, null] as const), step3, step2]);
    expect(got).toMatchObject({ fromImage: true, steps: 3, total: 40 });
    expect([...got.set.unseen()].sort((a, b) => a - b)).toEqual(
      [...Array.from({ length: 40 }, (_, i) => i + 1), 42].filter((id) => id !== 2),
    );
  });

  it('refuses a slice or a step out of place, so that the table is read instead', async () => {
    const inOrder = slices.map((s, i) => [i, s, null, null, null] as const);
    const swapped = [inOrder[1]!, inOrder[0]!, ...inOrder.slice(2)];
    await expect(read([...swapped, step3, step2])).rejects.toThrow(UnreadableImageError);
    await expect(read([...inOrder, step2, step3])).rejects.toThrow(UnreadableImageError);
    await expect(read([step3, ...inOrder, step2])).rejects.toThrow(UnreadableImageError);
    await expect(read([...inOrder.slice(0, 2), ...inOrder.slice(3), step3])).rejects.toThrow(
      UnreadableImageError,
    );
  });
});

/**
 * The recognizer over `input`, as raw staging's lines; `twoPass`: as a feed with current versions is loaded — a
 * first pass over `firstPass` (the same input unless a test says otherwise) hashes and looks the records up, with
 * the set arriving after `setAfter` ms (records wait for it, at most `pendingMax` of them), and the second reads
 * the kept ones from `input`.
 */
async function run(
  input: Buffer[],
  set: RawHashSet | null,
  {
    fingerprint = 's',
    parallel = false,
    twoPass = false,
    firstPass: firstInput = input,
    setAfter = 0,
    pendingMax = undefined as number | undefined,
  } = {},
) {
  const counts: RecognitionCounts = { records: 0, recognized: 0, again: 0 };
  const out: Buffer[] = [];
  const hasher = await LineHasher.create(fingerprint, parallel);
  try {
    const arrives = new Promise<RawHashSet | null>((resolve) => setTimeout(() => resolve(set), setAfter));
    const pass = twoPass
      ? await firstPass(Readable.from(firstInput), hasher, arrives, counts, { pendingMax })
      : null;
    const rows = pass
      ? pass.batches(Readable.from(input), hasher)
      : unrecognizedRows(Readable.from(input), { set, counts, hasher }, true);
    for await (const lines of stagingLines(rows, ',', 3)) out.push(lines);
  } finally {
    await hasher.close();
  }
  const lines = Buffer.concat(out).toString('utf8').split('\n').slice(0, -1);
  return { counts, lines };
}

describe('the recognizer in front of COPY', () => {
  it('splits records where COPY does, across chunks, with number and hash in front; blank lines become empty rows', async () => {
    const file = 'a,b,c\r\n1,"two\r\nlines",3\r\n\r\n4,5,"6""x"\r\n7,8,9';
    // Cut into 3-byte chunks so that records and quoted newlines straddle chunk boundaries.
    const bytes = Buffer.from(file);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 3) }, (_, i) =>
      bytes.subarray(i * 3, i * 3 + 3),
    );
    const { counts, lines } = await run(chunks, null);
    expect(counts).toEqual({ records: 4, recognized: 0, again: 0 });
    // XXH3-128 of the record's bytes, seeded from the settings fingerprint.
    const seed = lineSeed('s');
    const [h1, h2, h3, h4] = await Promise.all(
      ['1,"two\r\nlines",3', '', '4,5,"6""x"', '7,8,9'].map((r) => xxhash128(Buffer.from(r), ...seed)),
    );
    const expected = [
      `1,\\x${h1},1,"two\r`,
      'lines",3',
      `2,\\x${h2},,,`, // three empty cells
      `3,\\x${h3},4,5,"6""x"`,
      `4,\\x${h4},7,8,9`,
    ];
    expect(lines).toEqual(expected);
    // The same through two passes: the first one's hashes, looked up by the second.
    expect((await run(chunks, null, { twoPass: true })).lines).toEqual(expected);
  });

  it('drops records that are a current version byte for byte (CRLF or LF alike), once as unchanged, again as duplicates', async () => {
    const first = await run([Buffer.from('a,b,c\n1,2,3\n4,5,6\n')], null);
    const set = new RawHashSet(2);
    for (const [i, line] of first.lines.entries())
      set.add(Buffer.from(line.split(',')[1]!.slice(2), 'hex'), 0, i + 1);
    const second = await run([Buffer.from('a,b,c\r\n4,5,6\r\n9,9,9\r\n4,5,6\r\n')], set);
    expect(second.counts).toEqual({ records: 3, recognized: 1, again: 1 });
    expect(second.lines.map((l) => l.split(',').slice(0, 1).concat(l.split(',').slice(2)).join(','))).toEqual(
      ['2,9,9,9'],
    );
    expect([...set.unseen()]).toEqual([1]); // the version loaded from '1,2,3'
    // The same when the records were hashed in a first pass, while the set was being read.
    const again = new RawHashSet(2);
    for (const [i, line] of first.lines.entries())
      again.add(Buffer.from(line.split(',')[1]!.slice(2), 'hex'), 0, i + 1);
    const twoPass = await run([Buffer.from('a,b,c\r\n4,5,6\r\n9,9,9\r\n4,5,6\r\n')], again, {
      twoPass: true,
    });
    expect(twoPass.counts).toEqual(second.counts);
    expect(twoPass.lines).toEqual(second.lines);
    expect([...again.unseen()]).toEqual([1]);
    // The same when the set arrives after the records were hashed: they wait for it, and the pass stops reading
    // while more than `pendingMax` wait (3-byte chunks: kept records straddle the second pass's chunks).
    const file = Buffer.from('a,b,c\r\n4,5,6\r\n9,9,9\r\n4,5,6\r\n');
    for (const pendingMax of [1, 1000]) {
      const late = new RawHashSet(2);
      for (const [i, line] of first.lines.entries())
        late.add(Buffer.from(line.split(',')[1]!.slice(2), 'hex'), 0, i + 1);
      const chunks = Array.from({ length: Math.ceil(file.length / 3) }, (_, i) =>
        file.subarray(3 * i, 3 * i + 3),
      );
      const waited = await run(chunks, late, { twoPass: true, setAfter: 30, pendingMax });
      expect(waited.counts).toEqual(second.counts);
      expect(waited.lines).toEqual(second.lines);
      expect([...late.unseen()]).toEqual([1]);
    }
    // Another settings fingerprint (other settings, header or mapping): nothing is recognised.
    const fresh = new RawHashSet(2);
    for (const [i, line] of first.lines.entries())
      fresh.add(Buffer.from(line.split(',')[1]!.slice(2), 'hex'), 0, i + 1);
    expect(
      (await run([Buffer.from('a,b,c\n1,2,3\n')], fresh, { fingerprint: 'other' })).counts.recognized,
    ).toBe(0);
  });

  it('hashes the same on a second thread as on the main one', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => (i % 7 ? `${i},"x\n${i}",y` : `${i},,`));
    const file = Buffer.from(`a,b,c\n${rows.join('\n')}\n`);
    const chunks = Array.from({ length: Math.ceil(file.length / 50_000) }, (_, i) =>
      file.subarray(i * 50_000, (i + 1) * 50_000),
    );
    const serial = await run(chunks, null);
    const parallel = await run(chunks, null, { parallel: true });
    expect(parallel.counts.records).toBe(5000);
    expect(parallel.lines).toEqual(serial.lines);
    // The first pass hands whole batches to the thread while it keeps up, and hashes here when it falls behind.
    const firstPass = await run(chunks, null, { parallel: true, twoPass: true });
    expect(firstPass.lines).toEqual(serial.lines);
  });

  it('fails a load whose file has more or fewer records in the second pass than in the first', async () => {
    const three = [Buffer.from('a,b,c\n1,2,3\n4,5,6\n7,8,9\n')];
    const two = [Buffer.from('a,b,c\n1,2,3\n4,5,6\n')];
    const four = [Buffer.from('a,b,c\n1,2,3\n4,5,6\n7,8,9\n0,0,0\n')];
    await expect(run(two, null, { twoPass: true, firstPass: three })).rejects.toBeInstanceOf(
      FileChangedError,
    );
    await expect(run(four, null, { twoPass: true, firstPass: three })).rejects.toBeInstanceOf(
      FileChangedError,
    );
    expect((await run(three, null, { twoPass: true })).counts.records).toBe(3);
    // As many bytes and records, one kept record changed in place: its bytes are not those hashed.
    const edited = [Buffer.from('a,b,c\n1,2,3\n4,X,6\n7,8,9\n')];
    await expect(run(edited, null, { twoPass: true, firstPass: three })).rejects.toBeInstanceOf(
      FileChangedError,
    );
  });
});

describe('the hashing thread', () => {
  it('fails the batches it still holds when it is closed, and hashes later ones on the main thread', async () => {
    const hasher = await LineHasher.create('s', true);
    const rows = Array.from({ length: 20_000 }, (_, i) => `${i},x,y`);
    const batch = new RecordSplitter().push(Buffer.from(`a,b,c\n${rows.join('\n')}\n`))[0]!;
    const held = hasher.hash(batch, true); // offloaded whole: the thread holds it
    const outcome = expect(held).rejects.toThrow('the hashing thread ended');
    await hasher.close();
    await outcome;
    const after = await hasher.hash(batch, true);
    const alone = await LineHasher.create('s', false);
    expect(Buffer.from(after).equals(Buffer.from(await alone.hash(batch)))).toBe(true);
    await alone.close();
  });
});
