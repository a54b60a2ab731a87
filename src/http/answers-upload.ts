/**
 * A department's filled list uploaded over HTTP (the API's /api/lists/feedback and the console's upload form),
 * imported as `ruralhub lists feedback` imports a file. The bytes are stored under a name of our own — the
 * department's file name is not trusted as a path — in a private temporary folder removed afterwards, with the
 * error workbook the import writes there.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Department } from '../../schemas/vocab.ts';
import { importFeedback } from '../delivery/import-feedback.ts';
import type { HttpContext } from './context.ts';
import type { Principal } from './tokens.ts';

/** `ext` is the file's extension, already checked with isAnswerFileType. */
export async function importUploadedAnswers(
  { wh, log, today }: HttpContext,
  who: Principal,
  department: Department,
  ext: string,
  bytes: Buffer,
) {
  const dir = await mkdtemp(join(tmpdir(), 'ruralhub-answers-'));
  try {
    const path = join(dir, `${department}-answers${ext}`);
    await writeFile(path, bytes);
    return await importFeedback({
      wh,
      file: path,
      department,
      asOf: today(),
      outDir: dir,
      log,
      actor: `token:${who.tokenId}`,
      clientAddr: who.clientAddr ?? null,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
