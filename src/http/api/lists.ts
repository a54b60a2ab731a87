/**
 * A department's list download (the same workbook `lists export` writes; its items become sent) and answer
 * upload (multipart, size-limited; the same validation as `lists feedback`, answers bound to the token's
 * department whatever the file says).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { exportLists } from '../../delivery/export-lists.ts';
import { ANSWER_FILE_TYPES, isAnswerFileType } from '../../delivery/read-answers.ts';
import { importUploadedAnswers } from '../answers-upload.ts';
import { departmentOf, HttpError } from '../request.ts';
import { type Api, route } from './route.ts';

export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

export function registerLists(api: Api): void {
  const { wh, log, today } = api;
  route(
    api,
    {
      method: 'get',
      path: '/api/lists/current.xlsx',
      summary: "The department's list as a workbook (its open items; exported items become sent; audited)",
      roles: ['department'],
      produces: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    },
    async ({ who, reply }) => {
      const department = departmentOf(who);
      const dir = await mkdtemp(join(tmpdir(), 'ruralhub-list-'));
      const [file] = await exportLists({
        wh,
        outDir: dir,
        asOf: today(),
        log,
        department,
        actor: `token:${who.tokenId}`,
        clientAddr: who.clientAddr ?? null,
      });
      if (!file) {
        await rm(dir, { recursive: true, force: true });
        throw new HttpError(404, 'not_found', `no open items for ${department}`);
      }
      const name = encodeURIComponent(`${department}-问题清单-${today()}.xlsx`);
      const stream = createReadStream(file.paths[0]!);
      stream.on('close', () => void rm(dir, { recursive: true, force: true }));
      return reply
        .header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', `attachment; filename*=UTF-8''${name}`)
        .send(stream);
    },
  );

  route(
    api,
    {
      method: 'post',
      path: '/api/lists/feedback',
      summary: 'Upload a filled list (xlsx, xls, et or csv, ≤ 10 MiB): answers applied, rejected rows listed',
      roles: ['department'],
    },
    async ({ who, req }) => {
      const department = departmentOf(who);
      const part = await req.file({ limits: { fileSize: MAX_UPLOAD_BYTES, files: 1 } });
      if (!part) throw new HttpError(400, 'invalid_request', 'multipart field "file" is required');
      const ext = extname(part.filename).toLowerCase();
      if (!isAnswerFileType(ext)) {
        throw new HttpError(
          400,
          'invalid_request',
          `file: expected ${ANSWER_FILE_TYPES.join(', ')}, got '${ext || '(none)'}'`,
        );
      }
      const buf = await part.toBuffer();
      if (part.file.truncated)
        throw new HttpError(413, 'too_large', `file: larger than ${MAX_UPLOAD_BYTES} bytes`);
      const o = await importUploadedAnswers(api, who, department, ext, buf, part.filename);
      if (o.department !== department)
        throw new HttpError(403, 'forbidden', `the file is ${o.department}'s list`);
      return { ...o, source: part.filename, errorFile: undefined };
    },
  );
}
