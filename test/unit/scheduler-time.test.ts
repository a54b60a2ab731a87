import { describe, expect, it } from 'vitest';
import { backoffSeconds } from '../../core/backoff.ts';
import { nextSlot, slotsBetween } from '../../src/scheduler/slots.ts';

describe('scheduler time arithmetic', () => {
  it('lists the slots of a cron expression in the county time zone', () => {
    const from = new Date('2026-11-24T16:00:00Z'); // 2026-11-25 00:00 in Beijing
    const to = new Date('2026-11-27T16:00:00Z');
    expect(slotsBetween('0 2 * * *', from, to, 'Asia/Shanghai').map((d) => d.toISOString())).toEqual([
      '2026-11-24T18:00:00.000Z',
      '2026-11-25T18:00:00.000Z',
      '2026-11-26T18:00:00.000Z',
    ]);
    // (from, to]: a slot exactly at `from` was the previous tick's.
    expect(slotsBetween('0 0 * * *', from, to, 'Asia/Shanghai')).toHaveLength(3);
    expect(nextSlot('0 9 1 * *', from, 'Asia/Shanghai').toISOString()).toBe('2026-12-01T01:00:00.000Z');
  });

  it('backs off exponentially up to the cap, with jitter between half and the whole delay', () => {
    const p = { baseSeconds: 30, maxSeconds: 1800 };
    const nominal = [1, 2, 3, 4, 5, 6, 7, 8].map((a) => backoffSeconds(a, p, () => 1));
    expect(nominal).toEqual([30, 60, 120, 240, 480, 960, 1800, 1800]);
    expect([1, 2, 3].map((a) => backoffSeconds(a, p, () => 0))).toEqual([15, 30, 60]);
    for (let i = 0; i < 100; i++) {
      const s = backoffSeconds(3, p);
      expect(s).toBeGreaterThanOrEqual(60);
      expect(s).toBeLessThanOrEqual(120);
    }
  });
});
