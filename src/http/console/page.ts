/**
 * What a console page is: a declaration the console registers (src/http/console/index.ts), which signs the
 * visitor in, refuses other roles (403, audited), renders the page in the layout with its header links, and
 * sends it. A page only reads and renders.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from '../context.ts';
import type { ApiRole, Principal } from '../tokens.ts';
import type { Html } from './html.ts';

/**
 * A page's answer: a titled body (status 200 unless it says otherwise), a redirect (302) elsewhere, or a file to
 * download (an export of what the page shows; the page audits it).
 */
export type PageResult =
  | { title: string; body: Html; status?: number }
  | { redirect: string }
  | { download: { filename: string; type: string; body: string } };

export interface PageCall {
  ctx: HttpContext;
  req: FastifyRequest;
  reply: FastifyReply;
  who: Principal;
  /** The query string's parameters, as the browser sent them. */
  query: Record<string, string | undefined>;
}

/**
 * One console page.
 *
 * @example
 * export const feedsPage: ConsolePage = {
 *   method: 'GET',
 *   path: '/console/feeds',
 *   roles: ['operator', 'bureau'],
 *   nav: { roles: ['operator'], label: () => '数据源' },
 *   render: async ({ ctx }) => ({ title: '数据源', body: html`…` }),
 * };
 * // …and `feedsPage` in PAGES (src/http/console/index.ts).
 */
export interface ConsolePage {
  method: 'GET' | 'POST';
  path: `/console${string}`;
  /** Who may open it; anyone else signed in gets a 403 page and an audit row. */
  roles: readonly ApiRole[];
  /** Its link in the page header: for these roles, in the order of PAGES. */
  nav?: { roles: readonly ApiRole[]; label: (who: Principal) => string };
  render: (call: PageCall) => Promise<PageResult>;
}
