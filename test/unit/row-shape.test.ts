import { describe, expect, it } from 'vitest';
import { footerKind } from '../../connectors/row-shape.ts';
import { FOOTER_CASES } from '../support/footer-cases.ts';

describe('footerKind', () => {
  it.each(FOOTER_CASES.map((c) => [JSON.stringify(c.cells), c.kind, c.cells] as const))(
    '%s is %s',
    (_, kind, cells) => {
      expect(footerKind(cells)).toBe(kind);
    },
  );
});
