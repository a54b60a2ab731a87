/**
 * Alerts: always an error-level log line; also a POST to the webhook whose URL is in the environment variable
 * named by scheduler.alert_webhook_env. The URL is a secret (it often embeds a token): it is never logged.
 * A webhook that fails is logged as a warning and never fails the job.
 */

import type { Logger } from '../../core/log.ts';
import type { Config } from '../../schemas/config.ts';

export interface Alert {
  job: string;
  slot: string;
  status: 'failed' | 'held';
  message: string;
}

export type AlertSink = (a: Alert) => Promise<void>;

export function alertSink(config: Readonly<Config>, log: Logger, fetchImpl: typeof fetch = fetch): AlertSink {
  const envName = config.scheduler.alert_webhook_env;
  return async (a) => {
    log.error({ alert: true, ...a }, `job ${a.job} ${a.status}: ${a.message}`);
    const url = envName ? process.env[envName] : undefined;
    if (!url) return;
    try {
      const res = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source: 'ruralhub', county: config.county.name, ...a }),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok)
        log.warn({ job: a.job, http_status: res.status }, `alert webhook (${envName}) refused the alert`);
    } catch (err) {
      log.warn({ job: a.job, err: (err as Error).name }, `alert webhook (${envName}) unreachable`);
    }
  };
}
