/** Display width of a string in a terminal: CJK and full-width characters take two columns. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s)
    w +=
      /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{20000}-\u{3fffd}]/u.test(
        ch,
      )
        ? 2
        : 1;
  return w;
}

/** A plain aligned text table for terminals (numbers right-aligned). */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number | null | undefined)[])[],
): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const widths = headers.map((h, i) =>
    Math.max(displayWidth(h), ...cells.map((r) => displayWidth(r[i] ?? ''))),
  );
  const pad = (s: string, i: number, right: boolean) => {
    const gap = ' '.repeat(widths[i]! - displayWidth(s));
    return right ? gap + s : s + gap;
  };
  const numeric = headers.map(
    (_, i) => cells.length > 0 && cells.every((r) => /^-?[0-9.,]*$/.test(r[i] ?? '')),
  );
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => pad(c, i, numeric[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
