/** Milliseconds per named phase of a run, for the run's log line: `phase('normalize')` closes a phase. */
export function phaseTimer() {
  const ms: Record<string, number> = {};
  let last = performance.now();
  const mark = (name: string) => {
    const now = performance.now();
    ms[name] = Math.round(now - last);
    last = now;
  };
  return Object.assign(mark, { all: () => ms });
}
