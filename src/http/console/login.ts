/**
 * The console's gate: login with a token, which starts a session (src/http/sessions.ts) whose random id — never
 * the token — is kept in an HttpOnly, SameSite=Strict cookie, Secure over HTTPS (direct or via a trusted proxy);
 * logout ends the session. Like every state-changing request, both posts must come from our own pages
 * (src/http/security.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.ts';
import { audit, LEGACY_TOKEN_COOKIE, principalOf, SESSION_COOKIE, sessionCookieOf } from '../request.ts';
import { createSession, endSession, SESSION_ABSOLUTE_HOURS } from '../sessions.ts';
import { authenticate } from '../tokens.ts';
import { html, page, sendPage } from './html.ts';

export function registerLogin(app: FastifyInstance, { wh }: HttpContext): void {
  // Login form posts are urlencoded; three lines here rather than another plugin.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  app.get('/console/login', async (_req, reply) =>
    sendPage(
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
      return sendPage(
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
}
