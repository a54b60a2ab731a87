import type { Command } from 'commander';
import { formatLocal, isoLocal } from '../../../core/clock.ts';
import { configError } from '../../../core/errors.ts';
import { API_ROLES, type ApiRole, DEPARTMENTS, type Department } from '../../../schemas/vocabulary.ts';
import { parseFormat, writeRows } from '../output.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('the HTTP API (/api, /openapi.json) and the web console (/console) until stopped')
    .option('-p, --port <port>', 'port to listen on', '8080')
    .option('--host <host>', 'address to listen on (0.0.0.0 for all interfaces)', '127.0.0.1')
    .addHelpText(
      'after',
      `
Clients authenticate with a token from \`ruralhub tokens create\` (Authorization: Bearer …); the console asks
for it at /console/login. Put a TLS-terminating proxy in front of it before exposing it beyond localhost.

Example:
  $ ruralhub tokens create --role bureau --label 局办公室
  $ ruralhub serve --port 8080   # then open http://127.0.0.1:8080/console`,
    )
    .action(async (opts: { port: string; host: string }, cmd: Command) => {
      const { makeContext, withWarehouse } = await import('../context.ts');
      const ctx = makeContext(cmd.optsWithGlobals());
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw configError(`--port: expected 0–65535, got '${opts.port}'`);
      await withWarehouse(ctx, async (wh) => {
        // The server (fastify and its plugins) is loaded only by this command, not on every command's start.
        const { buildServer } = await import('../../http/server.ts');
        const app = await buildServer({ wh, config: ctx.config, log: ctx.log });
        const address = await app.listen({ port, host: opts.host });
        ctx.out.write(
          `RuralHub serving on ${address} — console: ${address}/console, API description: ${address}/openapi.json\n`,
        );
        await new Promise<void>((resolve) => {
          const stop = () => void app.close().then(resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      });
    });

  const tokens = program.command('tokens').description('API tokens for the HTTP API and the console');
  tokens
    .command('create')
    .description('create a token; it is printed once and stored only as a hash')
    .requiredOption('--role <role>', `one of ${API_ROLES.join(', ')}`)
    .option('-d, --department <name>', 'the department of a department token, e.g. 教育局')
    .option('--label <text>', 'who or what it is for (shown in the audit log)')
    .option(
      '--expires <when>',
      'when it stops working: a date (YYYY-MM-DD) or a lifetime (90d, 12h); default never',
    )
    .addHelpText(
      'after',
      '\nExample:\n  $ ruralhub tokens create --role department --department 教育局 --label 张老师 --expires 90d',
    )
    .action(
      async (opts: { role: string; department?: string; label?: string; expires?: string }, cmd: Command) => {
        const [{ createToken }, { makeContext, withWarehouse }] = await Promise.all([
          import('../../http/tokens.ts'),
          import('../context.ts'),
        ]);
        const ctx = makeContext(cmd.optsWithGlobals());
        if (!(API_ROLES as readonly string[]).includes(opts.role)) {
          throw configError(`--role: expected one of ${API_ROLES.join(', ')}, got '${opts.role}'`);
        }
        const role = opts.role as ApiRole;
        let department: Department | undefined;
        if (role === 'department') {
          // The list, not its zod enum (schemas/vocab.ts): the same test, without loading zod at every start.
          if (!(DEPARTMENTS as readonly string[]).includes(opts.department ?? ''))
            throw configError(`--department: a department token needs one of ${DEPARTMENTS.join(', ')}`);
          department = opts.department as Department;
        } else if (opts.department) throw configError('--department is only for --role department');
        const expiresAt = opts.expires === undefined ? undefined : expiryOf(opts.expires, new Date());
        await withWarehouse(ctx, async (wh) => {
          const t = await createToken(wh, { role, department, label: opts.label, expiresAt });
          ctx.out.write(`${t.token}\n`);
          process.stderr.write(
            `token ${t.id} created for ${role}${department ? ` (${department})` : ''}${expiresAt ? `, expires ${formatLocal(ctx.config.timezone, expiresAt)} (${ctx.config.timezone})` : ''}; it is not shown again\n`,
          );
        });
      },
    );
  tokens
    .command('list')
    .description('tokens with role, department and last use (never the tokens themselves)')
    .option('--format <format>', 'table, csv or json', 'table')
    .action(async (opts: { format?: string }, cmd: Command) => {
      const [{ listTokens }, { makeContext, withWarehouse }] = await Promise.all([
        import('../../http/tokens.ts'),
        import('../context.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      await withWarehouse(ctx, async (wh) => {
        const format = parseFormat(opts.format);
        const tz = ctx.config.timezone;
        // People read the county's time; files get ISO 8601 with its offset (as `runs` does).
        const at = (d: Date | null) =>
          d === null ? null : format === 'table' ? formatLocal(tz, d) : isoLocal(tz, d);
        const rows = (await listTokens(wh)).map((t) => ({
          ...t,
          created_at: at(t.created_at),
          last_used_at: at(t.last_used_at),
          expires_at: at(t.expires_at),
          revoked_at: at(t.revoked_at),
        }));
        writeRows(
          ctx.out,
          format,
          ['id', 'role', 'department', 'label', 'created_at', 'last_used_at', 'expires_at', 'revoked_at'],
          rows,
        );
        if (format === 'table') ctx.out.write(`times in ${tz}\n`);
      });
    });
  tokens
    .command('revoke <id>')
    .description('revoke a token at once')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const [{ revokeToken }, { makeContext, withWarehouse }] = await Promise.all([
        import('../../http/tokens.ts'),
        import('../context.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      if (!/^[0-9]+$/.test(id)) throw configError(`'${id}' is not a token id (see ruralhub tokens list)`);
      await withWarehouse(ctx, async (wh) => {
        if (!(await revokeToken(wh, Number(id)))) throw configError(`no active token ${id}`);
        ctx.out.write(`token ${id} revoked\n`);
      });
    });
}

/** `--expires`: a calendar date (the token works through that day, in UTC) or a lifetime from now (90d, 12h). */
export function expiryOf(when: string, now: Date): Date {
  const life = /^([0-9]{1,5})([dh])$/.exec(when.trim());
  if (life) return new Date(now.getTime() + Number(life[1]) * (life[2] === 'd' ? 86_400_000 : 3_600_000));
  const day = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(when.trim()) ? new Date(`${when.trim()}T23:59:59Z`) : null;
  if (day && !Number.isNaN(day.getTime()) && day.toISOString().startsWith(when.trim()) && day > now)
    return day;
  throw configError(
    `--expires: expected a future date YYYY-MM-DD or a lifetime such as 90d or 12h, got '${when}'`,
  );
}
