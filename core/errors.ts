import type { ErrorKind } from '../schemas/vocab.ts';

/**
 * The one error type the engine throws on purpose. It says what kind it is (config, transient, data,
 * terminal), names where (file, row, field or config key) and never carries a secret or an unmasked ID:
 * callers mask before they build the message.
 */
export class RuralHubError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = 'RuralHubError';
  }
}

/**
 * Another run holds the lock this one needs (the same feed being imported): not a failure. The run was
 * recorded as `skipped`; a scheduler does not retry it, a person may simply run it again later.
 */
export class BusyError extends RuralHubError {
  constructor(message: string) {
    super('transient', message);
    this.name = 'BusyError';
  }
}

export const configError = (message: string, cause?: unknown) =>
  new RuralHubError('config', message, { cause });
export const dataError = (message: string, cause?: unknown) => new RuralHubError('data', message, { cause });
export const transientError = (message: string, cause?: unknown) =>
  new RuralHubError('transient', message, { cause });
export const terminalError = (message: string, cause?: unknown) =>
  new RuralHubError('terminal', message, { cause });

/** Exit codes by kind, so scripts can tell a bad config (2) from bad data (3) from a retryable fault (75). */
export const EXIT_CODES: Record<ErrorKind, number> = { config: 2, data: 3, transient: 75, terminal: 1 };
