/** Milliseconds per named phase of a run, for the run's log line: `phase('normalize')` closes a phase (a name used twice adds up). */
export function phaseTimer() {
  const ms: Record<string, number> = {};
  let last = performance.now();
  const mark = (name: string) => {
    const now = performance.now();
    ms[name] = (ms[name] ?? 0) + Math.round(now - last);
    last = now;
  };
  return Object.assign(mark, { all: () => ms });
}
