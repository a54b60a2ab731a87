/**
 * The bulk path's record splitter (src/load/record-splitter.ts) takes only well-formed quoting, however the file's
 * bytes fall into chunks: a quote that opens a field, two quotes inside one, a closing quote before the delimiter
 * or the line's end. Any other quote gives the file up (StrayQuoteError, SQLSTATE 22P04) for the record reader.
 */
import { describe, expect, it } from 'vitest';
import { RecordSplitter, StrayQuoteError } from '../../src/load/record-splitter.ts';

/** The records the splitter makes of `text` pushed in chunks cut at `cuts`, as strings (header left out). */
function split(text: string, cuts: readonly number[], delimiter = ','): string[] {
  const bytes = Buffer.from(text);
  const splitter = new RecordSplitter({ delimiter });
  const out: string[] = [];
  const take = (batches: ReturnType<RecordSplitter['push']>) => {
    for (const b of batches)
      for (let i = 0; i < b.starts.length; i++) out.push(b.buf.toString('utf8', b.starts[i], b.ends[i]));
  };
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    take(splitter.push(bytes.subarray(from, cut)));
    from = cut;
  }
  take(splitter.end());
  return out;
}

/** `text` split at every single position and every pair of positions: the same outcome each time. */
function everyWay(text: string, delimiter = ','): (string[] | 'stray')[] {
  const n = Buffer.byteLength(text);
  const outcomes = new Set<string>();
  const results: (string[] | 'stray')[] = [];
  for (let a = 0; a <= n; a++)
    for (let b = a; b <= n; b += 3) {
      let r: string[] | 'stray';
      try {
        r = split(text, [a, b], delimiter);
      } catch (err) {
        if (!(err instanceof StrayQuoteError)) throw err;
        expect(err.code).toBe('22P04');
        r = 'stray';
      }
      const key = JSON.stringify(r);
      if (!outcomes.has(key)) {
        outcomes.add(key);
        results.push(r);
      }
    }
  return results;
}

describe('the record splitter', () => {
  it.each([
    ['plain fields', 'a,b\n1,2\n3,4\n', ['1,2', '3,4']],
    [
      'quoted fields, an escaped quote, a delimiter and a newline inside quotes',
      'a,b\n"1","x""y"\n"p,q","l1\nl2"\n',
      ['"1","x""y"', '"p,q","l1\nl2"'],
    ],
    ['a field of two quotes (empty) and of four (one quote)', 'a,b\n"",""""\n', ['"",""""']],
    ['CRLF line ends, a quoted field last', 'a,b\r\n1,"2"\r\n"3",4\r\n', ['1,"2"', '"3",4']],
    ['no newline at the end, a quoted field last', 'a,b\n1,"2"', ['1,"2"']],
    ['quotes in the header', '"a","b"\n1,2\n', ['1,2']],
  ])('takes %s, cut anywhere', (_, text, records) => {
    expect(everyWay(text)).toEqual([records]);
  });

  it('takes a tab-delimited file whose quoted field follows a tab', () => {
    expect(everyWay('a\tb\n"1"\t"x""y"\n', '\t')).toEqual([['"1"\t"x""y"']]);
  });

  it.each([
    ['a quote inside an unquoted field', 'a,b\n1,5"x7" photo\n'],
    ['a quote ending an unquoted field', 'a,b\n1,12"\n'],
    ['text after a closing quote', 'a,b\n"ab"c,2\n'],
    ['a space after a closing quote', 'a,b\n"ab" ,2\n'],
    ['a quote after a closing one and text', 'a,b\n"a""b"c,2\n'],
    ['a quote inside an unquoted header cell', 'a"x",b\n1,2\n'],
    ['a comma-delimited quote read with tabs', 'a\tb\n1,"2"\t3\n'],
  ])('gives up %s, cut anywhere', (_, text) => {
    expect(everyWay(text, text.includes('\t') ? '\t' : ',')).toEqual(['stray']);
  });
});
