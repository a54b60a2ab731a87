import type { RuleDefinition } from '../../schemas/rule.ts';
import type { RuleId } from '../../schemas/vocab.ts';
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

/** The rule catalog of DOMAIN §6 by id, in catalog order. */
export const RULES: Record<RuleId, RuleDefinition<never>> = {
  R01: r01 as RuleDefinition<never>,
  R02: r02 as RuleDefinition<never>,
  R03: r03 as RuleDefinition<never>,
  R04: r04 as RuleDefinition<never>,
  R05: r05 as RuleDefinition<never>,
  R06: r06 as RuleDefinition<never>,
  R07: r07 as RuleDefinition<never>,
  R08: r08 as RuleDefinition<never>,
  R09: r09 as RuleDefinition<never>,
  R10: r10 as RuleDefinition<never>,
  R11: r11 as RuleDefinition<never>,
  R12: r12 as RuleDefinition<never>,
  R13: r13 as RuleDefinition<never>,
};
