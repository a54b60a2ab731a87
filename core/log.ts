/**
 * Logging: JSON lines by default (for log collectors), human-readable when the output is a terminal.
 * Logs go to stderr so that stdout carries only command output (CSV/JSON exports, summaries).
 * Masking of ID numbers happens where messages are built; `redact` is the second line of defence for
 * fields that must never be logged whole.
 */
import { createRequire } from 'node:module';
import { type Logger as PinoLogger, pino } from 'pino';
import type pinoPretty from 'pino-pretty';

export type Logger = PinoLogger;

export interface LogOptions {
  level?: string;
  /** Force pretty or JSON output; default: pretty when stderr is a terminal. */
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

const REDACT = [
  'password',
  'token',
  'url',
  'connectionString',
  'id_number',
  'raw_value',
  '*.password',
  '*.token',
  '*.id_number',
  '*.raw_value',
];

export function createLogger(opts: LogOptions = {}): Logger {
  const destination = opts.destination ?? process.stderr;
  const usePretty = opts.pretty ?? Boolean((destination as NodeJS.WriteStream).isTTY);
  const base = {
    level: opts.level ?? process.env.RURALHUB_LOG_LEVEL ?? 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
    base: undefined,
  };
  if (usePretty) {
    // Loaded only for a person at a terminal (~80 modules): a cron job, a pipe or a test logs JSON without it.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof pinoPretty;
    return pino(
      base,
      pretty({ destination, colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' }),
    );
  }
  return pino(base, destination);
}

/** A logger that writes nothing (tests that assert on other outputs). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
