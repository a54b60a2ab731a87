/**
 * Server-rendered HTML without a framework, shared by every console page: a tagged template that escapes every
 * interpolated value unless it is already markup, tables, the page layout and how a page is sent, and the words
 * findings are shown with (the dashboard's charts are charts.ts). Chinese for people, English identifiers for code.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { ruleById } from '../../../pipelines/rules/index.ts';
import { FINDING_STATE_LABELS } from '../../../schemas/vocab.ts';

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => ESC[c]!);

export type Part = Html | string | number | null | undefined | readonly Part[];
const render = (v: Part): string =>
  v instanceof Html ? v.value : Array.isArray(v) ? v.map(render).join('') : esc(v);

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  return new Html(strings.reduce((out, s, i) => out + s + (i < values.length ? render(values[i]!) : ''), ''));
}

export function table(headers: readonly string[], rows: readonly (readonly Part[])[], id?: string): Html {
  return html`<table${id ? new Html(` id="${esc(id)}"`) : ''}><thead><tr>${headers.map((h) => html`<th>${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table>`;
}

const CSS = `
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#1f4e79;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center}
header a{color:#fff;text-decoration:none}header form{margin-left:auto}
main{padding:1rem 1.2rem;max-width:1200px}
table{border-collapse:collapse;background:#fff;margin:.5rem 0 1.2rem;font-size:.9rem}
th,td{border:1px solid #d9e2ec;padding:.3rem .6rem;text-align:left}th{background:#e4ecf5}
.ok{background:#d3f9d8}.risk{background:#fff3bf}.bad{background:#ffd8d8}
.num{font-size:1.6rem;font-weight:600}.cards{display:flex;gap:1rem}.card{background:#fff;padding:.8rem 1.2rem;border:1px solid #d9e2ec}
.error{color:#b00020}
td{overflow-wrap:anywhere}form label{margin-right:.6rem}
.fields{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:0;margin:.5rem 0 0;background:#fff;border:1px solid #d9e2ec}
.fields div{display:flex;gap:.6rem;padding:.3rem .6rem;border-bottom:1px solid #eef2f6}
.fields dt{color:#52606d;min-width:7rem}.fields dd{margin:0;overflow-wrap:anywhere}
.source{color:#52606d;font-size:.85rem;margin:.2rem 0 1rem}h3 small{font-weight:normal;color:#52606d}
.pair{display:flex;gap:1.5rem;align-items:flex-start;flex-wrap:wrap}
figure.chart{margin:.5rem 0 1.2rem;background:#fff;border:1px solid #d9e2ec;padding:.4rem}
#findings td{white-space:nowrap}#findings td:nth-child(2),#findings td:nth-child(8){white-space:normal}#findings td:nth-child(2){min-width:10rem}#findings td:nth-child(8){min-width:14rem}
.pager{margin:.4rem 0}.pager a,.pager strong,.pager span{margin-right:.4rem}`;

/** The stylesheet's CSP source (the pages' only inline content), so the policy needs no 'unsafe-inline'. */
export const STYLE_HASH = `sha256-${createHash('sha256').update(CSS).digest('base64')}`;

export function page(title: string, body: Html, nav: Html = html``): string {
  return html`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${title} · RuralHub</title>
<style>${new Html(CSS)}</style></head><body><header><strong>RuralHub 防返贫数据比对</strong>${nav}
<form method="post" action="/console/logout"><button>退出</button></form></header>
<main><h1>${title}</h1>${body}</main></body></html>`.value;
}

/** Sends a rendered page; never cached, since pages show personal data. */
export const sendPage = (reply: FastifyReply, body: string, status = 200) =>
  reply.status(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);

/** A rule as people know it: its id and its name. */
export const ruleName = (id: string): string => `${id} ${ruleById(id)?.name ?? ''}`;

const STATE_LABELS: Readonly<Record<string, string>> = FINDING_STATE_LABELS;
/** A finding's state in Chinese (a state without a label as it is). */
export const stateLabel = (state: string): string => STATE_LABELS[state] ?? state;

/** Whom and where a finding is about: the same four columns in every table of findings. */
export const PERSON_IN_PLACE_HEADERS = ['身份证号', '姓名', '乡镇', '村'] as const;
export const personInPlace = (r: {
  id_number: string | null;
  name: string | null;
  township: string | null;
  village: string | null;
}): Part[] => [r.id_number, r.name, r.township, r.village];
