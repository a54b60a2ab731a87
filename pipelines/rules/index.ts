/**
 * The rule catalog of DOMAIN §6: adding a rule is its file (`defineRule`) and its entry here. The rule ids are
 * this registry's keys; nothing else lists them.
 */
import { z } from 'zod';
import type { FeedId } from '../feeds/index.ts';
import { r01 } from './r01-school-dropout.ts';
import { r02 } from './r02-uninsured.ts';
import { r03 } from './r03-subsidy-missing.ts';
import { r04 } from './r04-high-medical-costs.ts';
import { r05 } from './r05-safety-net-missing.ts';
import { r06 } from './r06-recipient-not-monitored.ts';
import { r07 } from './r07-disabled-child-not-placed.ts';
import { r08 } from './r08-unsafe-housing.ts';
import { r09 } from './r09-unsafe-water.ts';
import { r10 } from './r10-benefits-after-death.ts';
import { r11 } from './r11-able-worker-without-work.ts';
import { r12 } from './r12-disaster-risk.ts';
import { r13 } from './r13-identity-conflict.ts';
import { checkProcessing, type Rule } from './rule.ts';

/** Rules by id, in the order they run and are listed; an extension or a test passes its own to `runMatch`. */
export type RuleRegistry<Id extends string = string, F extends string = string> = Readonly<
  Record<Id, Rule<Id, F>>
>;

/**
 * A registry whose every key is its rule's id, checked by the compiler (`R02: r01` does not compile). Each rule's
 * record of processing is checked too, at run time: an extension's rule may be plain JavaScript, and a registry
 * holding a rule without one is refused in one line naming it before anything runs.
 */
export const ruleRegistry = <const T extends { [K in keyof T]: Rule<K & string> }>(rules: T): Readonly<T> => {
  for (const rule of Object.values<Rule>(rules)) checkProcessing(rule);
  return rules;
};

/** The project's rules, in catalog order. */
export const RULES = ruleRegistry({
  R01: r01,
  R02: r02,
  R03: r03,
  R04: r04,
  R05: r05,
  R06: r06,
  R07: r07,
  R08: r08,
  R09: r09,
  R10: r10,
  R11: r11,
  R12: r12,
  R13: r13,
  // The catalog reads only the project's feeds: a misspelt feed in a rule's requires or uses fails here.
}) satisfies RuleRegistry<string, FeedId>;

export type RuleId = keyof typeof RULES;

export const isRuleId = (id: string): id is RuleId => Object.hasOwn(RULES, id);

/** The project's rule of an id read from the warehouse, a file or a person, if it has one. */
export const ruleById = (id: string): Rule<RuleId> | undefined => (isRuleId(id) ? RULES[id] : undefined);

/** The rule ids in catalog order (a rule id is not an integer key, so the keys keep the order written). */
export const RULE_IDS: readonly RuleId[] = Object.keys(RULES).filter(isRuleId);
export const RuleIdSchema = z.enum(RULE_IDS);
