/**
 * Works around a race in unzipper 0.10–0.12's streaming `Parse` (used by exceljs's streaming reader): when its
 * writable side finishes it emits 'end' at once, although entries it has already pushed may still sit unread
 * in its readable buffer. exceljs's reader then stops early and silently misses the workbook's last entries —
 * for files written by exceljs that is xl/workbook.xml (the reader fails), for Excel's own files it can be
 * xl/sharedStrings.xml (text cells would come back empty). Measured: 15 of 300 reads of one list failed.
 *
 * Parse also ends its readable side properly (push(null) after the end-of-central-directory record), which
 * delivers 'end' only after every buffered entry was read. So the early, manual 'end'/'close' are dropped
 * and the stream's own 'end' is relied upon; a truncated archive still fails with Parse's FILE_ENDED error.
 * Applied once, on import of the xlsx connector, to the unzipper instance exceljs shares with us.
 */
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';

type ParseFactory = (opts?: object) => Duplex;
const require = createRequire(import.meta.url);
const unzipper = require('unzipper') as { Parse: ParseFactory & { __ruralhubEndFix?: true } };

if (!unzipper.Parse.__ruralhubEndFix) {
  const original = unzipper.Parse;
  const fixed = Object.assign(
    (opts?: object) => {
      const parse = original(opts);
      // 'finish' listeners now: PullStream's (marks the input finished, which its FILE_ENDED check needs),
      // then Parse's early end/close emitter — the last one, the only one removed.
      const early = parse.listeners('finish').at(-1) as ((...a: unknown[]) => void) | undefined;
      if (early && /emit\(\s*['"]end['"]/.test(String(early))) parse.removeListener('finish', early);
      parse.once('end', () => parse.emit('close'));
      return parse;
    },
    { __ruralhubEndFix: true as const },
  );
  Object.setPrototypeOf(fixed, original);
  unzipper.Parse = fixed as typeof unzipper.Parse;
}
