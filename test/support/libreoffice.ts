/**
 * LibreOffice Calc, headless, for the tests that open our lists in a second spreadsheet program. Debian's
 * `libreoffice-calc-nogui` provides it; SOFFICE_PATH names another. Each conversion takes a few seconds, so
 * a test converts all its files in one call.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The soffice executable: SOFFICE_PATH, else soffice or libreoffice on PATH; null when there is none. */
export function findSoffice(): string | null {
  if (process.env.SOFFICE_PATH) return existsSync(process.env.SOFFICE_PATH) ? process.env.SOFFICE_PATH : null;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    for (const name of ['soffice', 'libreoffice'])
      if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** How to get LibreOffice, for the message of a test that is skipped without it. */
export const SOFFICE_MISSING =
  'LibreOffice not found (apt-get install libreoffice-calc-nogui, or set SOFFICE_PATH)';

/**
 * `soffice --convert-to <to>` of `files` into `outDir`. The user profile is a directory of the test's own:
 * two soffice processes sharing the default profile wait on each other's lock, or fail.
 */
export function convertWithSoffice(
  soffice: string,
  p: { files: readonly string[]; to: string; outDir: string; profileDir: string },
): void {
  execFileSync(
    soffice,
    [
      `-env:UserInstallation=${pathToFileURL(p.profileDir).href}`,
      '--headless',
      '--norestore',
      '--convert-to',
      p.to,
      '--outdir',
      p.outDir,
      ...p.files,
    ],
    { stdio: 'pipe', timeout: 180_000 },
  );
}

/**
 * The CSV filter that writes every sheet of a workbook (`<file>-<sheet>.csv`, LibreOffice 7.2+): comma, double
 * quote, UTF-8 (76), text as shown, token 12 = -1 for all sheets.
 */
export const CSV_ALL_SHEETS = 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1';
