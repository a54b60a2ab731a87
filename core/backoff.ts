/**
 * How long to wait before trying again, shared by the scheduler's retries and the HTTP connector's: a pure
 * function of the attempt, with the randomness injectable for tests.
 */
export interface BackoffPolicy {
  baseSeconds: number;
  maxSeconds: number;
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failed: exponential (base · 2^(attempt−1)), capped, with
 * "equal jitter" — half fixed, half random — so schedulers that failed together do not retry together, yet
 * no retry comes sooner than half the nominal delay. `random` is injectable for tests.
 */
export function backoffSeconds(
  attempt: number,
  p: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const nominal = Math.min(p.maxSeconds, p.baseSeconds * 2 ** Math.max(0, attempt - 1));
  return nominal / 2 + (nominal / 2) * random();
}
