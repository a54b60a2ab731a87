/**
 * A department's page (/console/department): its open items, read through the department scope so PostgreSQL
 * enforces the boundary here too; its list to download (the API's download); and the upload of the filled
 * list, imported as the API's upload imports it, the outcome shown above the items.
 */
import { extname } from 'node:path';
import { FEEDBACK_LABELS } from '../../../schemas/vocab.ts';
import { maskIdsInText } from '../../delivery/mask-text.ts';
import { ANSWER_FILE_TYPES, isAnswerFileType } from '../../delivery/read-answers.ts';
import { FINDING_COLUMNS, selectFindings } from '../../findings/query.ts';
import { importUploadedAnswers } from '../answers-upload.ts';
import type { HttpContext } from '../context.ts';
import { departmentOf } from '../request.ts';
import { withDepartmentScope } from '../scope.ts';
import type { Principal } from '../tokens.ts';
import {
  type Html,
  html,
  PERSON_IN_PLACE_HEADERS,
  personInPlace,
  ruleName,
  stateLabel,
  table,
} from './html.ts';
import type { ConsolePage, PageResult } from './page.ts';

async function departmentPage(
  ctx: HttpContext,
  who: Principal,
  notice: Html = html``,
  status = 200,
): Promise<PageResult> {
  const items = await withDepartmentScope(ctx.wh, departmentOf(who), (trx) =>
    selectFindings(trx, {}).select(FINDING_COLUMNS).orderBy('rule_id').orderBy('id').execute(),
  );
  return {
    title: `${who.department} 问题清单`,
    status,
    body: html`${notice}<p><a id="download" href="/api/lists/current.xlsx">下载清单（Excel）</a>：下载后清单内条目记为“已派发”。</p>
<form id="upload" method="post" action="/console/department/feedback" enctype="multipart/form-data">
<label>上传填好的清单 <input type="file" name="file" accept="${ANSWER_FILE_TYPES.join(',')}"></label><button type="submit">上传核实结果</button></form>
<h2>未销号条目（${items.length}）</h2>
${table(
  ['清单编号', '规则', ...PERSON_IN_PLACE_HEADERS, '状态', '核实结果', '整改时限'],
  items.map((i) => [
    i.id,
    ruleName(i.rule_id),
    ...personInPlace(i),
    stateLabel(i.state),
    i.feedback ? FEEDBACK_LABELS[i.feedback] : '',
    i.deadline,
  ]),
  'items',
)}`,
  };
}

export const departmentHome: ConsolePage = {
  method: 'GET',
  path: '/console/department',
  roles: ['department'],
  nav: { roles: ['department'], label: (who) => `${who.department} 清单` },
  render: ({ ctx, who }) => departmentPage(ctx, who),
};

export const departmentUpload: ConsolePage = {
  method: 'POST',
  path: '/console/department/feedback',
  roles: ['department'],
  render: async ({ ctx, req, who }) => {
    const part = await req.file();
    const ext = part ? extname(part.filename).toLowerCase() : '';
    if (!part || !isAnswerFileType(ext)) {
      return departmentPage(
        ctx,
        who,
        html`<p class="error">请选择 ${ANSWER_FILE_TYPES.join('、')} 文件。</p>`,
        400,
      );
    }
    try {
      const o = await importUploadedAnswers(
        ctx,
        who,
        departmentOf(who),
        ext,
        await part.toBuffer(),
        part.filename,
      );
      const notice = html`<div id="result"><p>已处理：${o.answered} 行有答复，${o.applied} 条已更新，${o.unchanged} 条无变化，${o.errors.length} 行有错误。</p>
${
  o.errors.length
    ? table(
        ['表', '行', '列', '问题'],
        o.errors.map((e) => [e.sheet ?? '', e.row, e.field ?? '', e.message]),
        'errors',
      )
    : ''
}</div>`;
      return await departmentPage(ctx, who, notice);
    } catch (err) {
      return departmentPage(
        ctx,
        who,
        // The reader's message names the file's problem (sheet, row, column); the clerk reads first what happened.
        html`<p class="error">上传的文件未能处理：${maskIdsInText((err as Error).message)}</p>`,
        400,
      );
    }
  },
};
