/**
 * The web console: its pages, one file each, in the order of their header links. A new page is its file (a
 * ConsolePage, src/http/console/page.ts) and its entry in PAGES; html.ts holds what pages share.
 *
 * Every page here is signed in: without a session the visitor is sent to the login page (login.ts), and a role
 * the page is not for gets a 403 page, written to the audit log. The pages call the same functions as the API;
 * department pages read through the department scope, so PostgreSQL enforces the boundary here too.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from '../context.ts';
import { audit, principalOf } from '../request.ts';
import type { Principal } from '../tokens.ts';
import { dashboardPage } from './dashboard.ts';
import { departmentHome, departmentUpload } from './department.ts';
import { findingsPage } from './findings.ts';
import { type Html, html, page, sendPage } from './html.ts';
import { principalLabel, roleLabel } from './labels.ts';
import { registerLogin } from './login.ts';
import { operatorPage } from './operator.ts';
import type { ConsolePage } from './page.ts';
import { personsPage } from './persons.ts';

const PAGES: readonly ConsolePage[] = [
  dashboardPage,
  findingsPage,
  personsPage,
  operatorPage,
  departmentHome,
  departmentUpload,
];

/** The header's links: the pages that name one for the visitor's role, and who is signed in. */
function nav(who: Principal): Html {
  const links = PAGES.flatMap((p) => (p.nav?.roles.includes(who.role) ? [[p.path, p.nav.label(who)]] : []));
  return html`${links.map(([href, label]) => html`<a href="${href}">${label}</a>`)}<span id="who">${principalLabel(who)}</span>`;
}

export function registerConsole(app: FastifyInstance, ctx: HttpContext): void {
  /** The page's principal, or null once the visitor has been sent to login or refused. */
  const signedIn = async (req: FastifyRequest, reply: FastifyReply, p: ConsolePage) => {
    const who = await principalOf(ctx.wh, req);
    if (!who) {
      void reply.redirect('/console/login');
      return null;
    }
    if (!p.roles.includes(who.role)) {
      await audit(ctx.wh, who, 'access.denied', `console ${req.url.split('?')[0]}`, 0);
      void sendPage(
        reply,
        page('无权访问', html`<p class="error">此页面不对${roleLabel(who.role)}开放。</p>`, nav(who)),
        403,
      );
      return null;
    }
    return who;
  };

  app.get('/', async (_req, reply) => reply.redirect('/console'));
  registerLogin(app, ctx);
  for (const p of PAGES) {
    app.route({
      method: p.method,
      url: p.path,
      handler: async (req, reply) => {
        const who = await signedIn(req, reply, p);
        if (!who) return;
        const query = req.query as Record<string, string | undefined>;
        const r = await p.render({ ctx, req, reply, who, query });
        if ('redirect' in r) return reply.redirect(r.redirect);
        if ('download' in r) {
          // The file name in UTF-8 (RFC 6266/5987), with an ASCII one for clients that read only that.
          const ascii = r.download.filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
          return reply
            .type(r.download.type)
            .header('cache-control', 'no-store')
            .header(
              'content-disposition',
              `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(r.download.filename)}`,
            )
            .send(r.download.body);
        }
        return sendPage(reply, page(r.title, r.body, nav(who)), r.status);
      },
    });
  }
}
