/**
 * Secrets never reach a log line, an error message or a response: sentinel values are planted in the
 * database password, an API token and the alert webhook URL, and every output of the failure paths is
 * scanned for them.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { buildServer } from '../../src/http/server.ts';
import { alertSink } from '../../src/scheduler/alerts.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { BIN, runCli } from '../support/cli.ts';
import { testWarehouse } from '../support/warehouse.ts';

const SENTINEL = 'S3NT1NEL-d0-not-print';
let wh: Warehouse;

beforeAll(async () => {
  wh = await testWarehouse('secrets');
});
afterAll(async () => wh?.close());

function capture() {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return {
    log: createLogger({ destination: stream, pretty: false, level: 'debug' }),
    text: () => chunks.join(''),
  };
}

describe('secrets in failure paths', () => {
  it('an unreachable database: the error names the host, never the password, even with --verbose', async () => {
    for (const args of [['runs'], ['--verbose', 'runs'], ['--verbose', 'import', 'roster', '--file', BIN]]) {
      const r = await runCli(args, {
        env: {
          ...process.env,
          DATABASE_URL: `postgres://ruralhub:${SENTINEL}@127.0.0.1:9/county?password=${SENTINEL}`,
          RURALHUB_LOG_LEVEL: 'debug',
        },
      });
      expect(r.code, args.join(' ')).toBe(75);
      expect(r.stderr).toMatch(/127\.0\.0\.1:9/);
      expect(r.stdout + r.stderr).not.toContain(SENTINEL);
    }
  });

  it('a failing alert webhook: logged without its URL', async () => {
    const refusing = createServer((_req, res) => {
      res.statusCode = 500;
      res.end('no');
    });
    await new Promise<void>((ok) => refusing.listen(0, '127.0.0.1', ok));
    const port = (refusing.address() as AddressInfo).port;
    const config = parseConfig(
      'county: { name: 示范县, code: "520102" }\nscheduler: { alert_webhook_env: RH_SENTINEL_HOOK }',
      'inline',
    );
    try {
      for (const url of [
        `http://127.0.0.1:${port}/hook/${SENTINEL}`,
        `http://127.0.0.1:9/hook/${SENTINEL}`,
      ]) {
        process.env.RH_SENTINEL_HOOK = url;
        const { log, text } = capture();
        await alertSink(config, log)({ job: 'j', slot: 's', status: 'failed', message: 'boom' });
        expect(text()).toMatch(/alert webhook \(RH_SENTINEL_HOOK\) (refused|unreachable)/);
        expect(text()).not.toContain(SENTINEL);
      }
    } finally {
      delete process.env.RH_SENTINEL_HOOK;
      refusing.close();
    }
  });

  it('a wrong API token: not echoed in the response, and logged nowhere', async () => {
    const { log, text } = capture();
    const app = await buildServer({
      wh,
      config: parseConfig('county: { name: 示范县, code: "520102" }', 'inline'),
      log,
    });
    try {
      for (const headers of [
        { authorization: `Bearer rh_${SENTINEL}` },
        { cookie: `rh_token=rh_${SENTINEL}` },
        { authorization: `Bearer ${SENTINEL}` },
      ]) {
        const r = await app.inject({ method: 'GET', url: '/api/findings', headers });
        expect(r.statusCode).toBe(401);
        expect(r.body).not.toContain(SENTINEL);
      }
      const login = await app.inject({
        method: 'POST',
        url: '/console/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `token=rh_${SENTINEL}`,
      });
      expect(login.statusCode).toBe(401);
      expect(login.body).not.toContain(SENTINEL);
      expect(text()).not.toContain(SENTINEL);
    } finally {
      await app.close();
    }
  });

  it('the logger redacts secret-named fields wherever they are logged', () => {
    const { log, text } = capture();
    log.info(
      { password: SENTINEL, token: SENTINEL, url: SENTINEL, db: { password: SENTINEL } },
      'connecting',
    );
    expect(text()).toMatch(/connecting/);
    expect(text()).not.toContain(SENTINEL);
  });
});
