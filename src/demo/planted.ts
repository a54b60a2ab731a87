import { RULE_IDS, type RuleId } from '../../pipelines/rules/index.ts';
import type { DemoCounty } from './generate.ts';

const isCases = (v: unknown): v is readonly string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * The rules the demo plants cases for, in catalog order, each with the subjects planted: the rule entries of the
 * generator's truth. A rule the demo plants nothing for (a new rule, until someone plants its cases) has no
 * entry, and the demo's truth test asks nothing of it.
 */
export function plantedRules(truth: DemoCounty['truth']): Map<RuleId, readonly string[]> {
  const entries = new Map<string, unknown>(Object.entries(truth));
  return new Map(
    RULE_IDS.flatMap((rule) => {
      const cases = entries.get(rule);
      return isCases(cases) ? [[rule, cases] as const] : [];
    }),
  );
}
