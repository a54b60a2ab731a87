/**
 * Closed vocabularies as zod enums, built from the lists of schemas/vocabulary.ts (where each is defined once,
 * imported by what needs no validator), which this module re-exports: every other module may import from here.
 */
import { z } from 'zod';
import { DEPARTMENTS, PROBLEM_CODES } from './vocabulary.ts';

export * from './vocabulary.ts';

function vocab<const T extends readonly [string, ...string[]]>(values: T) {
  return { values, schema: z.enum(values) } as const;
}

export const DepartmentSchema = vocab(DEPARTMENTS).schema;
export const ProblemCodeSchema = vocab(PROBLEM_CODES).schema;
