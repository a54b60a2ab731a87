/**
 * The operator's page (/console/operator), also open to the bureau: feed health, the latest runs and the
 * quarantine counts — as `ruralhub status` and /api/runs show them, with no personal data.
 */
import { formatLocal } from '../../../core/clock.ts';
import { PROBLEM_LABELS } from '../../../schemas/labels.ts';
import { collectStatus } from '../../scheduler/status.ts';
import { RUN_COLUMNS } from '../../warehouse/ledger.ts';
import { maskDeep } from '../mask-json.ts';
import { html, table } from './html.ts';
import { feedTitle, runKindLabel, runStatusLabel, verdictLabel } from './labels.ts';
import type { ConsolePage } from './page.ts';

const PROBLEMS: Readonly<Record<string, string>> = PROBLEM_LABELS;
/** A quarantine reason in Chinese; one the vocabulary does not know (an older row) as it was written. */
const problemLabel = (p: string): string => PROBLEMS[p] ?? p;

export const operatorPage: ConsolePage = {
  method: 'GET',
  path: '/console/operator',
  roles: ['operator', 'bureau'],
  nav: { roles: ['bureau', 'operator'], label: () => '运行' },
  render: async ({ ctx: { wh, config } }) => {
    const status = maskDeep(await collectStatus(wh, config, new Date()));
    const runs = maskDeep(
      await wh.db.selectFrom('runs').select(RUN_COLUMNS).orderBy('id', 'desc').limit(30).execute(),
    );
    const quarantine = await wh.db
      .selectFrom('quarantine')
      .select(['feed', 'problem', (eb) => eb.fn.countAll<string>().as('rows')])
      .groupBy(['feed', 'problem'])
      .orderBy('feed')
      .execute();
    const tz = config.timezone;
    const local = (iso: string | null) => (iso ? formatLocal(tz, new Date(iso)) : null);
    return {
      title: '运行情况',
      body: html`<p id="health">${status.healthy ? '全部正常' : '需要处理：有数据过期、失败或暂停'}</p>
<h2>数据源</h2>${table(
        ['数据源', '状态', `最近成功 (${tz})`, '天数', '行数', `最近失败 (${tz})`, '原因'],
        status.feeds.map((f) => [
          feedTitle(f.feed),
          html`<span class="${f.verdict === 'ok' ? 'ok' : f.verdict === 'not_configured' ? '' : 'bad'}">${verdictLabel(f.verdict)}</span>`,
          local(f.last_success),
          f.age_days,
          f.rows,
          local(f.last_failure),
          f.failure,
        ]),
        'feeds',
      )}
<h2>最近运行</h2>${table(
        ['编号', '类型', '数据源', '来源', '状态', `开始时间 (${tz})`, '读取', '入库', '隔离', '错误'],
        runs.map((r) => [
          r.id,
          runKindLabel(r.kind),
          feedTitle(r.feed),
          // A file's path or a rule id: the department's or the catalog's own words, not a vocabulary's.
          html`<span class="file">${r.source}</span>`,
          runStatusLabel(r.status),
          formatLocal(tz, r.started_at, { seconds: true }),
          r.rows_read,
          r.rows_loaded,
          r.rows_quarantined,
          r.error,
        ]),
        'runs',
      )}
<h2>隔离数据（按原因）</h2>${table(
        ['数据源', '原因', '行数'],
        quarantine.map((q) => [feedTitle(q.feed), problemLabel(q.problem), q.rows]),
        'quarantine',
      )}`,
    };
  },
};
