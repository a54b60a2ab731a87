import { describe, expect, it } from 'vitest';
import { formatLocal, isoLocal, localTimeIn } from '../../core/clock.ts';
import { nextSlot } from '../../src/scheduler/slots.ts';

describe('times as the county reads them', () => {
  const tz = 'Asia/Shanghai';

  it('shows a run started at 2026-12-01T17:30:00Z as 2026-12-02 01:30 in Asia/Shanghai', () => {
    const started = new Date('2026-12-01T17:30:00Z');
    expect(formatLocal(tz, started)).toBe('2026-12-02 01:30');
    expect(formatLocal(tz, new Date('2026-12-01T17:30:07Z'), { seconds: true })).toBe('2026-12-02 01:30:07');
    expect(localTimeIn(tz, started)).toBe('2026-12-02 01:30:00 (Asia/Shanghai)');
  });

  it('shows the slot of `0 1 * * *` at 01:00 local, and gives machines ISO 8601 with the offset', () => {
    const slot = nextSlot('0 1 * * *', new Date('2026-12-01T12:00:00Z'), tz);
    expect(slot.toISOString()).toBe('2026-12-01T17:00:00.000Z');
    expect(formatLocal(tz, slot)).toBe('2026-12-02 01:00');
    expect(isoLocal(tz, slot)).toBe('2026-12-02T01:00:00+08:00');
    expect(new Date(isoLocal(tz, slot)).getTime()).toBe(slot.getTime());
  });

  it('writes midnight as 00 (not 24) and other offsets, including negative and half-hour ones', () => {
    expect(formatLocal(tz, new Date('2026-12-01T16:00:00Z'))).toBe('2026-12-02 00:00');
    expect(isoLocal('UTC', new Date('2026-12-01T17:30:00Z'))).toBe('2026-12-01T17:30:00+00:00');
    expect(isoLocal('America/St_Johns', new Date('2026-12-01T17:30:00Z'))).toBe('2026-12-01T14:00:00-03:30');
    expect(isoLocal('Asia/Kolkata', new Date('2026-12-01T17:30:59.900Z'))).toBe('2026-12-01T23:00:59+05:30');
  });
});
