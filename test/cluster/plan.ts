/**
 * What a rule's distributed plan must not do (issue 26), read from Citus's EXPLAIN text: repartition a table
 * between workers (a MapMergeJob), or ship a feed's rows as they are to the coordinator — a Distributed Subplan
 * whose task is a bare scan of a feed table's shard, which Citus then collects on the coordinator (and sends back to
 * every worker). A subplan whose task joins or aggregates on the workers first ships only its result.
 */

/** The plan's lines that break it, each with why; none for a plan that runs on the workers. */
export function planProblems(plan: readonly string[], feeds: readonly string[]): string[] {
  const problems: string[] = [];
  const shard = new RegExp(
    `^->\\s+(?:Parallel )?(?:Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan) on (${feeds.join('|')})_\\d+\\b`,
  );
  // The subplan the line is in, and the indentation of its line: what is indented no deeper is outside it.
  let subplan: { id: string; indent: number } | null = null;
  for (const [i, raw] of plan.entries()) {
    const line = raw.trim();
    const indent = raw.length - raw.trimStart().length;
    if (subplan && indent <= subplan.indent) subplan = null;
    if (/MapMergeJob|repartition/i.test(line)) problems.push(`repartition: ${line}`);
    const sub = /^->\s+Distributed Subplan (\S+)/.exec(line);
    if (sub) subplan = { id: sub[1] ?? '', indent };
    // A task's plan starts on the line after its Node: line; its first node is what the worker returns.
    if (subplan !== null && /^Node: host=/.test(line)) {
      const first = (plan[i + 1] ?? '').trim();
      const scan = shard.exec(first);
      if (scan) problems.push(`subplan ${subplan.id} pulls ${scan[1]} to the coordinator: ${first}`);
    }
  }
  return problems;
}
