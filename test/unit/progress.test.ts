import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.ts';
import { describeProgress, progress } from '../../src/cli/progress.ts';

describe('progress for a person watching', () => {
  it('describes share, rows, rate and elapsed time', () => {
    expect(
      describeProgress(
        'roster',
        { phase: 'staging', bytes: 50 * 1048576, totalBytes: 200 * 1048576 },
        10_000,
      ),
    ).toBe('roster  staging  [#####...............] 25%  50 MiB  5.0 MiB/s  00:10');
    expect(describeProgress('match', { phase: 'R03 ran', done: 3, total: 13 }, 65_000)).toBe(
      'match  R03 ran  [#####...............] 23%  3/13  01:05',
    );
    expect(describeProgress('water', { phase: 'staging', rows: 240_000 }, 2_000)).toBe(
      'water  staging  240k rows  120k rows/s  00:02',
    );
  });

  it('redraws one line on a terminal, and logs every few seconds elsewhere', () => {
    let t = 0;
    const tty = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.WriteStream;
    const drawn: string[] = [];
    (tty as unknown as PassThrough).on('data', (c: Buffer) => drawn.push(c.toString()));
    const log = createLogger({ destination: new PassThrough(), pretty: false });
    const bar = progress('roster', log, tty, () => t);
    for (t = 300; t <= 1000; t += 100) bar.update({ phase: 'staging', rows: t * 100 });
    bar.end();
    expect(drawn.length).toBe(5); // every 200 ms from 300 to 1000, then the clearing
    expect(drawn[0]!.startsWith('\r\x1b[Kroster  staging  30k rows')).toBe(true);
    expect(drawn.at(-1)).toBe('\r\x1b[K');

    const lines: string[] = [];
    const out = new PassThrough();
    out.on('data', (c: Buffer) => lines.push(c.toString()));
    t = 0;
    const plain = progress(
      'roster',
      createLogger({ destination: out, pretty: false }),
      Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream,
      () => t,
    );
    for (t = 0; t <= 12_000; t += 500) plain.update({ phase: 'staging', rows: t });
    expect(lines).toHaveLength(2); // at 5 s and 10 s
    expect(JSON.parse(lines[0]!).msg).toMatch(/^roster {2}staging {2}5000 rows/);
  });
});
