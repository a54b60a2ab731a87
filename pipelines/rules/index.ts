import type { RuleDefinition } from '../../schemas/rule.ts';
import type { RuleId } from '../../schemas/vocab.ts';
import { r01 } from './r01-school-dropout.ts';
import { r02 } from './r02-uninsured.ts';

/** The rule catalog by id. A rule not listed here is not implemented yet. */
export const RULES: Partial<Record<RuleId, RuleDefinition<never>>> = {
  R01: r01 as RuleDefinition<never>,
  R02: r02 as RuleDefinition<never>,
};
