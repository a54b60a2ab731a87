/**
 * The web console: login with a token, which starts a session (src/http/sessions.ts) whose random id — never the
 * token — is kept in an HttpOnly, SameSite=Strict cookie, Secure over HTTPS (direct or via a trusted proxy);
 * logout ends the session. Every state-changing request must come from our own pages (src/http/security.ts).
 * Then one home page per role — the bureau's dashboard, the operator's page, a department's page — plus the findings browser and the
 * person page for the bureau. The pages call the same functions as the API; department pages read through
 * the department scope, so PostgreSQL enforces the boundary here too.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../../core/log.ts';
import { RULES } from '../../../pipelines/rules/index.ts';
import type { Config } from '../../../schemas/config.ts';
import { FEEDBACK_LABELS, FINDING_STATE_LABELS, type RuleId } from '../../../schemas/vocab.ts';
import { importFeedback } from '../../delivery/import-feedback.ts';
import { maskIdsInText } from '../../delivery/mask-text.ts';
import { ANSWER_FILE_TYPES, isAnswerFileType } from '../../delivery/read-answers.ts';
import { normalizeIdNumber } from '../../normalize/id-number.ts';
import { maskIdNumber } from '../../normalize/mask.ts';
import { computeIndicators, INDICATOR_LABELS } from '../../reporting/indicators.ts';
import { collectStatus } from '../../scheduler/status.ts';
import type { Warehouse } from '../../warehouse/connect.ts';
import { RUN_COLUMNS } from '../../warehouse/ledger.ts';
import { maskDeep } from '../mask-json.ts';
import { personPicture } from '../person.ts';
import {
  audit,
  HttpError,
  LEGACY_TOKEN_COOKIE,
  principalOf,
  SESSION_COOKIE,
  sessionCookieOf,
} from '../request.ts';
import { withDepartmentScope } from '../scope.ts';
import type { LookupLimit } from '../security.ts';
import { createSession, endSession, SESSION_ABSOLUTE_HOURS } from '../sessions.ts';
import type { Principal } from '../tokens.ts';
import { authenticate } from '../tokens.ts';
import { openByRuleAndDepartment, openTrend } from './dashboard.ts';
import { type Html, html, lineChart, page, table } from './html.ts';

interface ConsoleParams {
  wh: Warehouse;
  config: Readonly<Config>;
  log: Logger;
  today: () => string;
  /** The person-lookup limit shared with the API. */
  lookupLimit: LookupLimit;
}

const STATE_LABELS: Readonly<Record<string, string>> = FINDING_STATE_LABELS;
const STATUS_CLASS: Record<string, string> = { 达标: 'ok', 风险: 'risk', 未达标: 'bad' };
const ruleName = (id: string) => `${id} ${RULES[id as RuleId]?.name ?? ''}`;

function nav(who: Principal): Html {
  const links: [string, string][] =
    who.role === 'bureau'
      ? [
          ['/console', '总览'],
          ['/console/findings', '疑点'],
          ['/console/persons', '人员查询'],
          ['/console/operator', '运行'],
        ]
      : who.role === 'operator'
        ? [['/console/operator', '运行']]
        : [['/console/department', `${who.department} 清单`]];
  return html`${links.map(([href, label]) => html`<a href="${href}">${label}</a>`)}<span>${who.role}${who.department ? ` · ${who.department}` : ''}</span>`;
}

export function registerConsole(app: FastifyInstance, p: ConsoleParams): void {
  const { wh } = p;
  // Login form posts are urlencoded; three lines here rather than another plugin.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  const send = (reply: FastifyReply, body: string, status = 200) =>
    reply.status(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);

  /** The page's principal, or a redirect to the login page. */
  const who = async (req: FastifyRequest, reply: FastifyReply, roles: Principal['role'][]) => {
    const w = await principalOf(wh, req);
    if (!w) {
      void reply.redirect('/console/login');
      return null;
    }
    if (!roles.includes(w.role)) {
      await audit(wh, w, 'access.denied', `console ${req.url.split('?')[0]}`, 0);
      void send(reply, page('无权访问', html`<p class="error">此页面不对 ${w.role} 开放。</p>`, nav(w)), 403);
      return null;
    }
    return w;
  };

  app.get('/', async (_req, reply) => reply.redirect('/console'));
  app.get('/console/login', async (_req, reply) =>
    send(
      reply,
      page(
        '登录',
        html`<form method="post" action="/console/login"><label>访问令牌 <input name="token" type="password" size="60" autofocus></label>
<button type="submit">登录</button></form><p>令牌由管理员用 <code>ruralhub tokens create</code> 生成。</p>`,
      ),
    ),
  );
  app.post('/console/login', async (req, reply) => {
    const token = String((req.body as Record<string, unknown> | undefined)?.token ?? '');
    const w = await authenticate(wh, token);
    if (!w)
      return send(
        reply,
        page(
          '登录',
          html`<p class="error">令牌无效、已过期或已撤销。</p><p><a href="/console/login">重试</a></p>`,
        ),
        401,
      );
    // A fresh id at every login (a session id planted before login is worth nothing), and the old one ended.
    await endSession(wh, sessionCookieOf(req));
    const session = await createSession(wh, w.tokenId);
    await audit(wh, w, 'console.login', 'console', 0);
    void reply.clearCookie(LEGACY_TOKEN_COOKIE, { path: '/' });
    void reply.setCookie(SESSION_COOKIE, session, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      // req.protocol is 'https' over TLS, or when a trusted proxy (RURALHUB_TRUSTED_PROXIES) says so.
      secure: req.protocol === 'https',
      maxAge: SESSION_ABSOLUTE_HOURS * 3600,
    });
    return reply.redirect('/console', 303);
  });
  app.post('/console/logout', async (req, reply) => {
    const w = await principalOf(wh, req);
    await endSession(wh, sessionCookieOf(req));
    if (w) await audit(wh, w, 'console.logout', 'console', 0);
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    void reply.clearCookie(LEGACY_TOKEN_COOKIE, { path: '/' });
    return reply.redirect('/console/login', 303);
  });

  app.get('/console', async (req, reply) => {
    const w = await who(req, reply, ['bureau', 'operator', 'department']);
    if (!w) return;
    if (w.role === 'operator') return reply.redirect('/console/operator');
    if (w.role === 'department') return reply.redirect('/console/department');
    const today = p.today();
    const [indicators, open, trend] = await Promise.all([
      computeIndicators(wh.db, { asOf: today, config: p.config }),
      openByRuleAndDepartment(wh, today),
      openTrend(wh),
    ]);
    const total = open.reduce((n, r) => n + r.open, 0);
    const overdue = open.reduce((n, r) => n + r.overdue, 0);
    const townships = indicators.filter((i) => i.level !== 'village');
    return send(
      reply,
      page(
        `${p.config.county.name} 总览`,
        html`<div class="cards"><div class="card">未销号疑点<div class="num" id="open-total">${total}</div></div>
<div class="card">其中逾期<div class="num" id="overdue-total">${overdue}</div></div></div>
<h2>监测指标（按乡镇）</h2>
${table(
  ['指标', '乡镇', '达标', '应统计', '比率', '目标', '状态'],
  townships.map((i) => [
    INDICATOR_LABELS[i.indicator],
    i.township ?? '全县',
    i.numerator,
    i.denominator,
    i.rate === null ? '—' : `${(i.rate * 100).toFixed(1)}%`,
    `${(i.target * 100).toFixed(0)}%`,
    html`<span class="${STATUS_CLASS[i.status] ?? ''}">${i.status}</span>`,
  ]),
  'indicators',
)}
<h2>未销号与逾期（按规则、部门）</h2>
${table(
  ['规则', '责任部门', '未销号', '逾期'],
  open.map((r) => [ruleName(r.rule_id), r.department, r.open, r.overdue]),
  'open-by-rule',
)}
<h2>未销号疑点趋势（最近比对日）</h2>${lineChart(trend.map((t) => ({ label: t.day, value: t.open })))}`,
        nav(w),
      ),
    );
  });

  app.get('/console/findings', async (req, reply) => {
    const w = await who(req, reply, ['bureau']);
    if (!w) return;
    const q = req.query as Record<string, string | undefined>;
    let sel = wh.db
      .selectFrom('findings')
      .select([
        'id',
        'rule_id',
        'department',
        'id_number',
        'name',
        'township',
        'village',
        'state',
        'first_seen_on',
        'deadline',
      ])
      .orderBy('rule_id')
      .orderBy('id')
      .limit(200);
    if (q.rule) sel = sel.where('rule_id', '=', q.rule);
    if (q.department) sel = sel.where('department', '=', q.department);
    if (q.state) sel = sel.where('state', '=', q.state);
    else sel = sel.where('state', '<>', 'closed');
    const rows = maskDeep(await sel.execute());
    return send(
      reply,
      page(
        '疑点',
        html`<form method="get"><input name="rule" placeholder="规则 R01" value="${q.rule ?? ''}">
<input name="department" placeholder="部门" value="${q.department ?? ''}"><input name="state" placeholder="状态 open/sent/…" value="${q.state ?? ''}">
<button>筛选</button></form><p>最多显示 200 条；身份证号已脱敏。</p>
${table(
  ['编号', '规则', '部门', '身份证号', '姓名', '乡镇', '村', '状态', '首次发现', '时限'],
  rows.map((r) => [
    r.id,
    ruleName(r.rule_id),
    r.department,
    r.id_number,
    r.name,
    r.township,
    r.village,
    STATE_LABELS[r.state] ?? r.state,
    r.first_seen_on,
    r.deadline,
  ]),
  'findings',
)}`,
        nav(w),
      ),
    );
  });

  app.get('/console/persons', async (req, reply) => {
    const w = await who(req, reply, ['bureau']);
    if (!w) return;
    const q = req.query as Record<string, string | undefined>;
    const form = html`<form method="get"><label>身份证号 <input name="id" value="${q.id ?? ''}"></label>
<label>查询事由 <input name="purpose" value="${q.purpose ?? ''}" required></label><button>查询</button></form>
<p>每次查询记入审计日志。</p>`;
    if (!q.id) return send(reply, page('人员查询', form, nav(w)));
    const n = normalizeIdNumber(q.id, { today: p.today() });
    if (!n.id || !q.purpose || q.purpose.trim().length < 2) {
      return send(
        reply,
        page('人员查询', html`${form}<p class="error">请填写有效的身份证号和查询事由。</p>`, nav(w)),
        400,
      );
    }
    try {
      await p.lookupLimit(req, reply);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      return send(
        reply,
        page('人员查询', html`${form}<p class="error">查询过于频繁，请稍后再试。</p>`, nav(w)),
        429,
      );
    }
    const picture = await personPicture(wh.db, n.id);
    await audit(wh, w, 'person.lookup', maskIdNumber(n.id), picture ? 1 : 0, {
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
                ? v.toISOString()
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
            STATE_LABELS[String(f.state)] ?? String(f.state),
            String(f.first_seen_on),
          ]),
        )}`
      : html`${form}<p>没有 ${maskIdNumber(n.id)} 的记录。</p>`;
    return send(reply, page('人员查询', body, nav(w)));
  });

  app.get('/console/operator', async (req, reply) => {
    const w = await who(req, reply, ['operator', 'bureau']);
    if (!w) return;
    const status = maskDeep(await collectStatus(wh, p.config, new Date()));
    const runs = maskDeep(
      await wh.db.selectFrom('runs').select(RUN_COLUMNS).orderBy('id', 'desc').limit(30).execute(),
    );
    const quarantine = await wh.db
      .selectFrom('quarantine')
      .select(['feed', 'problem', (eb) => eb.fn.countAll<string>().as('rows')])
      .groupBy(['feed', 'problem'])
      .orderBy('feed')
      .execute();
    return send(
      reply,
      page(
        '运行情况',
        html`<p id="health">${status.healthy ? '全部正常' : '需要处理：有数据过期、失败或暂停'}</p>
<h2>数据源</h2>${table(
          ['数据源', '状态', '最近成功', '天数', '行数', '最近失败', '原因'],
          status.feeds.map((f) => [
            f.feed,
            html`<span class="${f.verdict === 'ok' ? 'ok' : f.verdict === 'not_configured' ? '' : 'bad'}">${f.verdict}</span>`,
            f.last_success,
            f.age_days,
            f.rows,
            f.last_failure,
            f.failure,
          ]),
          'feeds',
        )}
<h2>最近运行</h2>${table(
          ['编号', '类型', '数据源', '来源', '状态', '开始', '读取', '入库', '隔离', '错误'],
          runs.map((r) => [
            r.id,
            r.kind,
            r.feed,
            r.source,
            r.status,
            r.started_at.toISOString(),
            r.rows_read,
            r.rows_loaded,
            r.rows_quarantined,
            r.error,
          ]),
          'runs',
        )}
<h2>隔离数据（按原因）</h2>${table(
          ['数据源', '原因', '行数'],
          quarantine.map((q) => [q.feed, q.problem, q.rows]),
          'quarantine',
        )}`,
        nav(w),
      ),
    );
  });

  const departmentPage = async (w: Principal, notice: Html = html``) => {
    const items = await withDepartmentScope(wh, w.department!, (trx) =>
      trx
        .selectFrom('findings')
        .select([
          'id',
          'rule_id',
          'id_number',
          'name',
          'township',
          'village',
          'state',
          'feedback',
          'deadline',
        ])
        .where('state', '<>', 'closed')
        .orderBy('rule_id')
        .orderBy('id')
        .execute(),
    );
    return page(
      `${w.department} 问题清单`,
      html`${notice}<p><a id="download" href="/api/lists/current.xlsx">下载清单（Excel）</a>：下载后清单内条目记为“已派发”。</p>
<form id="upload" method="post" action="/console/department/feedback" enctype="multipart/form-data">
<label>上传填好的清单 <input type="file" name="file" accept="${ANSWER_FILE_TYPES.join(',')}"></label><button type="submit">上传核实结果</button></form>
<h2>未销号条目（${items.length}）</h2>
${table(
  ['清单编号', '规则', '身份证号', '姓名', '乡镇', '村', '状态', '核实结果', '整改时限'],
  items.map((i) => [
    i.id,
    ruleName(i.rule_id),
    i.id_number,
    i.name,
    i.township,
    i.village,
    STATE_LABELS[i.state] ?? i.state,
    i.feedback ? FEEDBACK_LABELS[i.feedback] : '',
    i.deadline,
  ]),
  'items',
)}`,
      nav(w),
    );
  };

  app.get('/console/department', async (req, reply) => {
    const w = await who(req, reply, ['department']);
    if (!w) return;
    return send(reply, await departmentPage(w));
  });

  app.post('/console/department/feedback', async (req, reply) => {
    const w = await who(req, reply, ['department']);
    if (!w) return;
    const part = await req.file();
    const ext = part ? extname(part.filename).toLowerCase() : '';
    if (!part || !isAnswerFileType(ext)) {
      return send(
        reply,
        await departmentPage(w, html`<p class="error">请选择 ${ANSWER_FILE_TYPES.join('、')} 文件。</p>`),
        400,
      );
    }
    const dir = await mkdtemp(join(tmpdir(), 'ruralhub-answers-'));
    try {
      const path = join(dir, `${w.department}-answers${ext}`);
      await writeFile(path, await part.toBuffer());
      const o = await importFeedback({
        wh,
        file: path,
        department: w.department!,
        asOf: p.today(),
        outDir: dir,
        log: p.log,
        actor: `token:${w.tokenId}`,
        clientAddr: w.clientAddr ?? null,
      });
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
      return send(reply, await departmentPage(w, notice));
    } catch (err) {
      return send(
        reply,
        await departmentPage(w, html`<p class="error">${maskIdsInText((err as Error).message)}</p>`),
        400,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
