import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idCheckChar, normalizeIdNumber } from '../../src/normalize/id-number.ts';

const today = '2026-11-24';
const norm = (raw: string | null, extra: Partial<Parameters<typeof normalizeIdNumber>[1]> = {}) =>
  normalizeIdNumber(raw, { today, ...extra });

describe('normalizeIdNumber', () => {
  it.each([
    ['11010519491231002X', 'valid', '11010519491231002X', []],
    ['11010519491231002x', 'recovered', '11010519491231002X', ['lowercase_x']],
    ['１１０１０５１９４９１２３１００２Ｘ', 'recovered', '11010519491231002X', ['fullwidth']],
    [' 110105 1949\t1231 002X ', 'recovered', '11010519491231002X', ['whitespace']],
    ['110105\u30001949123 1002X', 'recovered', '11010519491231002X', ['whitespace']],
    ['110105\u200b19491231002X', 'recovered', '11010519491231002X', ['whitespace']],
    ["'11010519491231002X", 'recovered', '11010519491231002X', ['quote']],
    ['110105491231002', 'recovered', '11010519491231002X', ['upgraded_15']],
  ] as const)('%s → %s %s', (raw, status, id, repairs) => {
    const r = norm(raw);
    expect(r.status).toBe(status);
    expect(r.id).toBe(id);
    expect(r.repairs).toEqual(repairs);
    expect(r.problem).toBeNull();
    expect(r.birthDate).toBe('1949-12-31');
    expect(r.sex).toBe('F');
  });

  it.each([
    [null, 'missing', 'id_missing'],
    ['   ', 'missing', 'id_missing'],
    ['4.30102E+17', 'unrecoverable', 'id_sci_notation'],
    ['4.30102e+17', 'unrecoverable', 'id_sci_notation'],
    ['430102E17', 'unrecoverable', 'id_sci_notation'],
    ['1101051949123100', 'invalid', 'id_bad_format'],
    ['11010519491231002Y', 'invalid', 'id_bad_format'],
    ['990105194912310020', 'invalid', 'id_bad_region'],
    ['110105194902300021', 'invalid', 'id_bad_birth_date'],
    ['440524188001010014', 'invalid', 'id_bad_birth_date'],
    ['110105203001010010', 'invalid', 'id_future_birth_date'],
    ['110105194912310021', 'invalid', 'id_bad_checksum'],
  ] as const)('%s → %s (%s)', (raw, status, problem) => {
    const r = norm(raw);
    expect(r.status).toBe(status);
    expect(r.problem).toBe(problem);
    expect(r.id).toBeNull();
    expect(r.birthDate).toBeNull();
  });

  it('accepts an early birth year only when the deployment lowers the limit', () => {
    expect(norm('440524188001010014', { minBirthYear: 1800 }).status).toBe('valid');
  });

  it('reads a 残疾人证号 in any ID column as the ID, with its category and grade', () => {
    expect(norm('11010519491231002X42')).toMatchObject({
      status: 'recovered',
      id: '11010519491231002X',
      repairs: ['disability_cert'],
      disability: { category: 4, grade: 2 },
      sex: 'F',
      birthDate: '1949-12-31',
    });
    // dirty like any ID: spaces, lowercase x, full-width digits
    expect(norm(' 110105 19491231002x 42').id).toBe('11010519491231002X');
    expect(norm('１１０１０５１９４９１２３１００２Ｘ１１').id).toBe('11010519491231002X');
  });

  it.each([
    ['11010519491231002142', 'id_bad_checksum'], // the first 18 characters are no valid ID
    ['99010519491231002042', 'id_bad_region'],
    ['11010519490230002142', 'id_bad_birth_date'],
    ['1101051949123100201', 'id_bad_format'], // 19 characters: neither
    ['110105194912310020421', 'id_bad_format'], // 21
    ['11010519491231002X4X', 'id_bad_format'], // the suffix is two digits
  ] as const)('does not accept %s as a certificate number (%s)', (raw, problem) => {
    const r = norm(raw);
    expect(r.status).toBe('invalid');
    expect(r.problem).toBe(problem);
    expect(r.id).toBeNull();
    expect(r.disability).toBeNull();
  });

  it('recovers every dirty rendering of a valid number to the same key (property)', () => {
    const validId = fc
      .tuple(
        fc.constantFrom('110105', '430102', '520102', '650104'),
        fc.date({ min: new Date('1901-01-01'), max: new Date('2025-12-31'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 999 }),
      )
      .map(([region, d, seq]) => {
        const first17 =
          region + d.toISOString().slice(0, 10).replace(/-/g, '') + String(seq).padStart(3, '0');
        return first17 + idCheckChar(first17);
      });
    const dirt = fc.constantFrom<(s: string) => string>(
      (s) => s.toLowerCase(),
      (s) => s.replace(/[0-9X]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
      (s) => `'${s}`,
      (s) => `${s.slice(0, 6)} ${s.slice(6, 14)}\u3000${s.slice(14)}\t`,
    );
    fc.assert(
      fc.property(validId, dirt, (id, dirty) => {
        const r = norm(dirty(id));
        expect(r.id).toBe(id);
        expect(r.birthDate).toBe(`${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`);
        expect(r.sex).toBe(Number(id[16]) % 2 ? 'M' : 'F');
      }),
    );
  });

  it('never accepts a number whose check character was changed (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), (k) => {
        const good = '11010519491231002X';
        const other = '0123456789X'.charAt(k);
        fc.pre(other !== 'X');
        expect(norm(good.slice(0, 17) + other).problem).toBe('id_bad_checksum');
      }),
    );
  });
});
