/**
 * The bureau's person lookup (/console/persons): one person as a clerk reads them — who they are, their
 * household, each department's current record in Chinese, their findings open and closed, and where every fact
 * came from (which department's file, sheet and row, loaded when). Found by ID number, or by name and village;
 * either way with a stated purpose, written to the audit log, within the lookup limit the API shares.
 *
 * Each finding has a folded 依据 (issue 21): for every event a match wrote — found, closed by the data, reopened —
 * the records behind it as the lineage copied them (src/findings/lineage.ts), each with its department's file,
 * sheet and row, load run and data date. This page is the bureau's only: a department reads only what its list
 * discloses, and the lineage names other departments' records.
 *
 * The bureau may see the person's full ID (DOMAIN §9: a purposeful, audited lookup); the other members' IDs and
 * every phone number stay masked. Laid out to fit a 1280 px screen: records as label/value grids, not one wide
 * table of every column.
 */
import { basename } from 'node:path';
import { formatLocal } from '../../../core/clock.ts';
import { FEED_IDS, FEEDS, type FeedId, isFeedId } from '../../../pipelines/feeds/index.ts';
import { CLOSE_REASON_LABELS, FEEDBACK_LABELS, SUBJECT_KIND_LABELS } from '../../../schemas/labels.ts';
import { type EventLineage, type LineageRecord, readFindingLineage } from '../../findings/lineage.ts';
import { normalizeIdNumber } from '../../normalize/id-number.ts';
import { maskIdNumber } from '../../normalize/mask.ts';
import type { HttpContext } from '../context.ts';
import {
  type Candidate,
  idOfPersonKey,
  type PersonFinding,
  type PersonPicture,
  personPicture,
  personsByName,
} from '../person.ts';
import { audit, HttpError } from '../request.ts';
import type { Principal } from '../tokens.ts';
import { type Html, html, ruleName, stateLabel, table } from './html.ts';
import { feedTitle, fieldLabel, fieldValue, idLinkLabel } from './labels.ts';
import type { ConsolePage, PageResult } from './page.ts';

const TITLE = '人员查询';

const lookupOf = (labels: Readonly<Record<string, string>>, code: string | null): string =>
  code == null ? '' : (labels[code] ?? code);

/**
 * Where a record came from: the file (its name, not the server's path — marked `file`: the department's own
 * words), sheet, row, and when it was loaded, in the county's time.
 */
function provenance(tz: string, r: Record<string, unknown>): Html {
  const src = typeof r.source === 'string' ? r.source : '';
  const file = /[/\\]/.test(src) ? basename(src.replace(/\\/g, '/')) : src;
  const sheet =
    typeof r.sheet === 'string' && r.sheet ? html`，工作表“<span class="file">${r.sheet}</span>”` : '';
  const row = r.row_number != null ? `，第 ${r.row_number} 行` : '';
  const loaded = r.valid_from instanceof Date ? `，${formatLocal(tz, r.valid_from)} 入库` : '';
  return html`来源：<span class="file">${file}</span>${sheet}${row}${loaded}`;
}

/** One record's declared fields as label/value pairs; the person's own ID is in the page's heading already. */
function recordFields(feed: FeedId, r: Record<string, unknown>, self: string): Html {
  const pairs = Object.keys(FEEDS[feed].fields).flatMap((field) => {
    const v = r[field];
    if (v === null || v === undefined || v === '') return [];
    if (field === 'id_number' && v === self) return [];
    const shown =
      /id_number$/.test(field) && typeof v === 'string' && v !== self
        ? maskIdNumber(v)
        : fieldValue(feed, field, v);
    return [[fieldLabel(feed, field), shown] as const];
  });
  const link = typeof r.id_link === 'string' ? idLinkLabel(r.id_link) : '';
  return html`<dl class="fields">${pairs.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}${
    link ? html`<div><dt>身份关联</dt><dd>${link}</dd></div>` : ''
  }</dl>`;
}

function feedSection(feed: FeedId, rows: readonly Record<string, unknown>[], self: string, tz: string): Html {
  const current = rows.filter((r) => r.valid_to === null);
  const past = rows.filter((r) => r.valid_to !== null);
  const local = (v: unknown) => (v instanceof Date ? formatLocal(tz, v) : '');
  return html`<section class="feed" id="feed-${feed}"><h3>${feedTitle(feed)}<small>（${FEEDS[feed].department}）</small></h3>
${current.length ? current.map((r) => html`${recordFields(feed, r, self)}<p class="source">${provenance(tz, r)}</p>`) : html`<p>当前没有记录。</p>`}
${
  past.length
    ? html`<details><summary>历史版本（${past.length}）</summary>${table(
        ['入库时间', '失效时间', '来源'],
        past.map((r) => [local(r.valid_from), local(r.valid_to), provenance(tz, r)]),
      )}</details>`
    : ''
}</section>`;
}

function findingTables(findings: readonly PersonFinding[]): Html {
  const open = findings.filter((f) => f.state !== 'closed');
  const closed = findings.filter((f) => f.state === 'closed');
  return html`<h2>疑点</h2><h3>未销号（${open.length}）</h3>${
    open.length
      ? table(
          ['编号', '规则', '对象', '责任部门', '状态', '首次发现', '最近发现', '整改时限', '核实结果'],
          open.map((f) => [
            f.id,
            ruleName(f.rule_id),
            lookupOf(SUBJECT_KIND_LABELS, f.subject_kind),
            f.department,
            stateLabel(f.state),
            f.first_seen_on,
            f.last_seen_on,
            f.deadline,
            lookupOf(FEEDBACK_LABELS, f.feedback),
          ]),
          'open-findings',
        )
      : html`<p>没有未销号的疑点。</p>`
  }<h3>已销号（${closed.length}）</h3>${
    closed.length
      ? table(
          ['编号', '规则', '对象', '责任部门', '状态', '首次发现', '销号日期', '销号方式', '核实结果'],
          closed.map((f) => [
            f.id,
            ruleName(f.rule_id),
            lookupOf(SUBJECT_KIND_LABELS, f.subject_kind),
            f.department,
            stateLabel(f.state),
            f.first_seen_on,
            f.closed_on,
            lookupOf(CLOSE_REASON_LABELS, f.close_reason),
            lookupOf(FEEDBACK_LABELS, f.feedback),
          ]),
          'closed-findings',
        )
      : html`<p>没有已销号的疑点。</p>`
  }`;
}

/** A file as the page names it: its name, not the server's path it was loaded from. */
const fileName = (src: string): string => (/[/\\]/.test(src) ? basename(src.replace(/\\/g, '/')) : src);

/**
 * What a match did to a finding, in the words of the findings tables: found, closed, reopened. A match closes only
 * by the data (a review's closure is no match's event), whatever the finding's close reason is now.
 */
function eventLabel(e: EventLineage): string {
  if (e.from_state === null) return `发现（${stateLabel(e.to_state)}）`;
  if (e.to_state === 'closed') return `销号（${CLOSE_REASON_LABELS.data}）`;
  return `${stateLabel(e.from_state)} → ${stateLabel(e.to_state)}`;
}

/**
 * A record's key fields as label：value. A rejected row's values are the department's raw text (no vocabulary
 * applies); an ID other than the person's own is masked, as the members table shows it.
 */
function recordKey(r: LineageRecord, self: string): string {
  // In the feed's declared key order (jsonb keeps its own: shortest name first).
  const order: readonly string[] = isFeedId(r.feed) ? FEEDS[r.feed].key : [];
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  return Object.entries(r.record_key)
    .sort(([a], [b]) => rank(a) - rank(b))
    .flatMap(([field, v]) => {
      if (v === null || v === undefined || v === '') return [];
      const text = String(v);
      const shown = /id_number$/.test(field)
        ? text === self
          ? text
          : maskIdNumber(text)
        : r.version_id === null
          ? text
          : fieldValue(r.feed, field, v);
      return [`${isFeedId(r.feed) ? fieldLabel(r.feed, field) : field}：${shown}`];
    })
    .join('，');
}

/**
 * One finding's 依据, folded (details/summary: opens without scripts): each event a match wrote with the records
 * behind it. Moves made by people (a list sent, an answer, a review) have no lineage and are in the finding's
 * state already.
 */
function lineageSection(f: PersonFinding, events: readonly EventLineage[], self: string): Html {
  const byMatch = events.filter((e) => e.run_id !== null);
  return html`<details class="lineage" id="lineage-${f.id}"><summary>依据：编号 ${f.id} ${ruleName(f.rule_id)}（${stateLabel(f.state)}）</summary>
${
  byMatch.length
    ? byMatch.map(
        (e) =>
          html`<h4>${e.on_date} ${eventLabel(e)}</h4>${
            e.records.length
              ? table(
                  ['数据', '记录', '文件', '工作表', '行', '导入批次', '数据日期'],
                  e.records.map((r) => [
                    `${feedTitle(r.feed)}${r.version_id === null ? '（被拒收的行）' : ''}`,
                    recordKey(r, self),
                    html`<span class="file">${fileName(r.source)}</span>`,
                    r.sheet ? html`<span class="file">${r.sheet}</span>` : '',
                    r.row_number,
                    r.run_id,
                    r.data_date ?? '',
                  ]),
                )
              : html`<p>当日相关数据中没有该对象的记录。</p>`
          }`,
      )
    : html`<p>没有比对记录的依据（早于溯源功能的疑点）。</p>`
}</details>`;
}

/** The page of one person: the viewer is the bureau, entitled to the person's full ID. */
function personBody(p: PersonPicture, lineage: ReadonlyMap<number, EventLineage[]>, tz: string): Html {
  const roster = p.feeds.roster?.find((r) => r.valid_to === null);
  const anyName = FEED_IDS.flatMap((f) => p.feeds[f] ?? []).find((r) => typeof r.name === 'string')?.name;
  const name = String(roster?.name ?? anyName ?? '');
  const place = roster ? [roster.township, roster.village].filter(Boolean).join(' ') : '';
  const withRecords = FEED_IDS.filter((f) => p.feeds[f]?.length);
  const without = FEED_IDS.filter((f) => f in p.feeds && !p.feeds[f]?.length);
  return html`<section id="person"><h2>${name} <span id="person-id">${p.id_number}</span></h2>
<p>${place}${p.household_id ? `，户编号 ${p.household_id}` : '，不在防返贫监测对象名册中'}${
    roster ? `，${fieldValue('roster', 'household_type', roster.household_type)}` : ''
  }</p></section>
${
  p.members.length
    ? html`<h2>家庭成员（${p.members.length}）</h2>${table(
        ['姓名', '身份证号', '与户主关系', '性别', '劳动技能'],
        p.members.map((m) => [
          m.name,
          m.id_number,
          m.relation,
          fieldValue('roster', 'sex', m.sex),
          fieldValue('roster', 'labor_capacity', m.labor_capacity),
        ]),
        'members',
      )}`
    : ''
}
${findingTables(p.findings)}
${
  p.findings.length
    ? html`<section id="lineage"><h3>疑点依据</h3>${p.findings.map((f) =>
        lineageSection(f, lineage.get(Number(f.id)) ?? [], p.id_number),
      )}</section>`
    : ''
}
<h2>各部门数据</h2>
${withRecords.map((f) => feedSection(f, p.feeds[f]!, p.id_number, tz))}
${without.length ? html`<p id="no-records">无记录：${without.map((f) => feedTitle(f)).join('、')}</p>` : ''}`;
}

function candidatesBody(cs: readonly Candidate[], purpose: string): Html {
  return html`<h2>找到 ${cs.length} 人，请选择</h2>${table(
    ['姓名', '身份证号', '乡镇', '村', '户编号', ''],
    cs.map((c) => [
      c.name,
      maskIdNumber(c.id_number),
      c.township,
      c.village,
      c.household_id,
      html`<a href="/console/persons?key=${c.person_key}&amp;purpose=${encodeURIComponent(purpose)}">查看</a>`,
    ]),
    'candidates',
  )}`;
}

async function showPerson(
  ctx: HttpContext,
  who: Principal,
  id: string,
  purpose: string,
  form: Html,
  by: 'id' | 'name',
): Promise<PageResult> {
  const picture = await personPicture(ctx.wh.db, id);
  // A person has a handful of findings: one read each, by the reader `findings --explain` uses.
  const lineage = new Map<number, EventLineage[]>();
  for (const f of picture?.findings ?? []) {
    const l = await readFindingLineage(ctx.wh.db, Number(f.id));
    if (l) lineage.set(Number(f.id), l.events);
  }
  await audit(ctx.wh, who, 'person.lookup', maskIdNumber(id), picture ? 1 : 0, {
    purpose,
    via: 'console',
    ...(by === 'name' ? { by: 'name_village' } : {}),
  });
  return {
    title: TITLE,
    body: picture
      ? html`${form}${personBody(picture, lineage, ctx.config.timezone)}`
      : html`${form}<p>没有 ${maskIdNumber(id)} 的记录。</p>`,
  };
}

export const personsPage: ConsolePage = {
  method: 'GET',
  path: '/console/persons',
  roles: ['bureau'],
  nav: { roles: ['bureau'], label: () => TITLE },
  render: async ({ ctx, req, reply, who, query: q }) => {
    const form = html`<form method="get" id="lookup"><label>身份证号 <input name="id" value="${q.id ?? ''}"></label>
<span>或</span><label>姓名 <input name="name" size="8" value="${q.name ?? ''}"></label><label>村 <input name="village" size="10" value="${q.village ?? ''}"></label>
<label>查询事由 <input name="purpose" value="${q.purpose ?? ''}" required></label><button>查询</button></form>
<p>每次查询记入审计日志。</p>`;
    const byName = !q.id && !q.key && (q.name || q.village);
    if (!q.id && !q.key && !byName) return { title: TITLE, body: form };
    const purpose = q.purpose?.trim() ?? '';
    const fail = (message: string, status = 400): PageResult => ({
      title: TITLE,
      body: html`${form}<p class="error">${message}</p>`,
      status,
    });
    if (purpose.length < 2) return fail('请填写查询事由（至少两个字）。');
    const n = q.id ? normalizeIdNumber(q.id, { today: ctx.today() }) : null;
    if (n && !n.id) return fail('身份证号无效，请核对后重新输入。');
    if (byName && !(q.name?.trim() && q.village?.trim())) return fail('按姓名查询时请同时填写姓名和村。');
    try {
      await ctx.lookupLimit(req, reply);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      return fail('查询过于频繁，请稍后再试。', 429);
    }
    if (n?.id) return showPerson(ctx, who, n.id, purpose, form, 'id');
    if (q.key) {
      // A candidate chosen from a name search: the person's key, not their ID, travels in the link.
      const id = /^[1-9][0-9]{0,15}$/.test(q.key) ? await idOfPersonKey(ctx.wh.db, Number(q.key)) : null;
      if (!id) return fail('没有这个人员，请重新查询。', 404);
      return showPerson(ctx, who, id, purpose, form, 'name');
    }
    const found = await personsByName(ctx.wh.db, q.name!, q.village!);
    if (found.length === 1) return showPerson(ctx, who, found[0]!.id_number, purpose, form, 'name');
    // Several (or none): the search itself is a lookup of the roster, audited with its purpose.
    await audit(ctx.wh, who, 'person.search', `${q.village!.trim()} 姓名查询`, found.length, {
      purpose,
      via: 'console',
    });
    return found.length
      ? { title: TITLE, body: html`${form}${candidatesBody(found, purpose)}` }
      : { title: TITLE, body: html`${form}<p>${q.village} 没有名叫 ${q.name} 的监测对象。</p>` };
  },
};
