/**
 * The bureau's person lookup (/console/persons): everything held about one person, as the API's lookup gives
 * it — with a stated purpose, written to the audit log, within the lookup limit the API shares.
 */
import { formatLocal } from '../../../core/clock.ts';
import { normalizeIdNumber } from '../../normalize/id-number.ts';
import { maskIdNumber } from '../../normalize/mask.ts';
import { personPicture } from '../person.ts';
import { audit, HttpError } from '../request.ts';
import { html, ruleName, stateLabel, table } from './html.ts';
import type { ConsolePage } from './page.ts';

export const personsPage: ConsolePage = {
  method: 'GET',
  path: '/console/persons',
  roles: ['bureau'],
  nav: { roles: ['bureau'], label: () => '人员查询' },
  render: async ({ ctx, req, reply, who, query: q }) => {
    const title = '人员查询';
    const form = html`<form method="get"><label>身份证号 <input name="id" value="${q.id ?? ''}"></label>
<label>查询事由 <input name="purpose" value="${q.purpose ?? ''}" required></label><button>查询</button></form>
<p>每次查询记入审计日志。</p>`;
    if (!q.id) return { title, body: form };
    const n = normalizeIdNumber(q.id, { today: ctx.today() });
    if (!n.id || !q.purpose || q.purpose.trim().length < 2) {
      return { title, body: html`${form}<p class="error">请填写有效的身份证号和查询事由。</p>`, status: 400 };
    }
    try {
      await ctx.lookupLimit(req, reply);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      return { title, body: html`${form}<p class="error">查询过于频繁，请稍后再试。</p>`, status: 429 };
    }
    const picture = await personPicture(ctx.wh.db, n.id);
    await audit(ctx.wh, who, 'person.lookup', maskIdNumber(n.id), picture ? 1 : 0, {
      purpose: q.purpose,
      via: 'console',
    });
    const body = picture
      ? html`${form}<h2>${n.id}</h2>
${Object.entries(picture.feeds)
  .filter(([, rows]) => rows.length)
  .map(
    ([feed, rows]) =>
      html`<h3>${feed}</h3>${table(
        Object.keys(rows[0]!),
        rows.map((r) =>
          Object.values(r).map((v) =>
            v && typeof v === 'object' && !(v instanceof Date)
              ? JSON.stringify(v)
              : v instanceof Date
                ? `${formatLocal(ctx.config.timezone, v, { seconds: true })} (${ctx.config.timezone})`
                : (v as string),
          ),
        ),
      )}`,
  )}
<h3>疑点</h3>${table(
          ['编号', '规则', '部门', '状态', '首次发现'],
          picture.findings.map((f) => [
            String(f.id),
            ruleName(String(f.rule_id)),
            String(f.department),
            stateLabel(String(f.state)),
            String(f.first_seen_on),
          ]),
        )}`
      : html`${form}<p>没有 ${maskIdNumber(n.id)} 的记录。</p>`;
    return { title, body };
  },
};
