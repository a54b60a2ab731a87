/**
 * A department's filled list uploaded over HTTP (the API's /api/lists/feedback and the console's upload form),
 * imported as `ruralhub lists feedback` imports a file. The bytes are stored under a name of our own — the
 * department's file name is not trusted as a path — in a private temporary folder removed afterwards, with the
 * error workbook the import writes there. Messages name the file as the department named it (never the
 * temporary file) and suggest no command-line option.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Department } from '../../schemas/vocab.ts';
import { importFeedback } from '../delivery/import-feedback.ts';
import type { HttpContext } from './context.ts';
import type { Principal } from './tokens.ts';

/** What a message calls an upload whose name the caller did not give. */
export const UNNAMED_UPLOAD = '上传的文件';

/**
 * The uploaded file's name for messages: its last path segment (some browsers send `C:\fakepath\…`), without
 * control characters, at most 100 characters; `UNNAMED_UPLOAD` + the extension when nothing is left.
 */
export function uploadName(raw: string | undefined, ext: string): string {
  const name = (raw ?? '')
    .split(/[\\/]/)
    .at(-1)!
    .replace(/\p{Cc}/gu, '')
    .trim()
    .slice(0, 100);
  return name || `${UNNAMED_UPLOAD}${ext}`;
}

/** `ext` is the file's extension, already checked with isAnswerFileType; `name` the file's original name. */
export async function importUploadedAnswers(
  { wh, log, today }: HttpContext,
  who: Principal,
  department: Department,
  ext: string,
  bytes: Buffer,
  name?: string,
) {
  const dir = await mkdtemp(join(tmpdir(), 'ruralhub-answers-'));
  try {
    const path = join(dir, `${department}-answers${ext}`);
    await writeFile(path, bytes);
    return await importFeedback({
      wh,
      file: path,
      uploadedAs: uploadName(name, ext),
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
