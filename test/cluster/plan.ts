/**
 * What a rule's distributed plan must not do (issue 26), read from Citus's EXPLAIN text: repartition a table
 * between workers (a MapMergeJob), or ship a feed's rows as they are to the coordinator. Rows a Citus scan collects
 * are shipped there when the coordinator goes on working with them: in a Distributed Subplan (Citus keeps the
 * result and sends it back to every worker), or under a coordinator node that combines them (an aggregate, a join,
 * a DISTINCT). Such a scan's task must not return a feed shard's rows as they are: a bare scan of the shard, also
 * beneath nodes that pass rows through unchanged in number (an Append of several feeds, a Sort, a Subquery Scan…).
 * A task that joins or aggregates on the workers first ships only its result. The scan at the top of the plan
 * returns the rule's findings, which go to the coordinator whatever the plan.
 */

/** One node of the plan: its label (the text after `->`), where that starts, its parent, its line. */
interface PlanNode {
  label: string;
  indent: number;
  parent: PlanNode | null;
  line: number;
}

/**
 * The plan's nodes with their parents. EXPLAIN writes a node's children with their arrow two columns right of its
 * label, and a subplan's (`SubPlan 2`, `InitPlan 1`: correlated filters, evaluated in place) two further in, under a
 * line of their own, which is kept as a node so that they do not count as the node's own children.
 */
function parsePlan(plan: readonly string[]): PlanNode[] {
  const nodes: PlanNode[] = [];
  for (const [line, raw] of plan.entries()) {
    const text = raw.trimStart();
    const at = raw.length - text.length;
    const arrow = text.startsWith('->');
    const sub = /^(SubPlan|InitPlan|CTE) /.test(text);
    if (!arrow && !sub && line > 0) continue;
    const label = arrow ? text.replace(/^->\s+/, '') : text;
    const indent = arrow ? at + (text.length - label.length) : at;
    // the parent: the latest node whose label starts two columns left of this arrow
    let parent: PlanNode | null = null;
    if (line > 0) {
      for (let i = nodes.length - 1; i >= 0; i--) {
        const n = nodes[i]!;
        if (n.indent === at - 2) {
          parent = n;
          break;
        }
        if (n.indent < at - 2) break;
      }
    }
    nodes.push({ label, indent, parent, line });
  }
  return nodes;
}

/** Worker nodes that return the rows they read, as many as they read: what is under them is what is shipped. */
const PASS_THROUGH =
  /^(Append|Merge Append|Subquery Scan|Sort|Incremental Sort|Materialize|Result|Gather|Gather Merge|Limit|Custom Scan \(ColumnarScan\))\b/;
/** Coordinator nodes that only hand on or order what they are given (the rule's findings on their way out). */
const HANDS_ON = /^(Sort|Incremental Sort|Limit|Result|Subquery Scan|Append|Materialize)\b/;

/** The plan's lines that break it, each with why; none for a plan that runs on the workers. */
export function planProblems(plan: readonly string[], feeds: readonly string[]): string[] {
  const problems: string[] = [];
  for (const raw of plan) {
    const line = raw.trim();
    if (/MapMergeJob|repartition/i.test(line)) problems.push(`repartition: ${line}`);
  }
  const shard = new RegExp(
    `^(?:Parallel )?(?:Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan) on (${feeds.join('|')})_\\d+\\b`,
  );
  const nodes = parsePlan(plan);
  const children = (n: PlanNode) => nodes.filter((c) => c.parent === n);
  // What a task returns as it read it: the scans reached from its root through pass-through nodes.
  const shipped = (n: PlanNode): PlanNode[] =>
    shard.test(n.label) ? [n] : PASS_THROUGH.test(n.label) ? children(n).flatMap(shipped) : [];
  for (const scan of nodes.filter((n) => n.label.startsWith('Custom Scan (Citus Adaptive)'))) {
    // Who receives the scan's rows on the coordinator: a subplan, a combining node, or nobody (the result).
    let receiver: string | null = null;
    for (let p = scan.parent; p !== null; p = p.parent) {
      const sub = /^Distributed Subplan (\S+)/.exec(p.label);
      if (sub) {
        receiver = `subplan ${sub[1]}`;
        break;
      }
      if (receiver === null && !HANDS_ON.test(p.label))
        receiver = `the coordinator's ${p.label.replace(/\s+\(cost=.*$/, '')}`;
    }
    if (receiver === null) continue;
    for (const task of children(scan).filter((c) => c.label === 'Task')) {
      for (const root of children(task)) {
        for (const s of shipped(root)) {
          const feed = shard.exec(s.label)?.[1];
          problems.push(`${receiver} pulls ${feed} to the coordinator: ->  ${s.label}`);
        }
      }
    }
  }
  return problems;
}
