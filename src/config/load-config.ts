import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { z } from 'zod';
import { configError } from '../../core/errors.ts';
import { FEEDS, type FeedId } from '../../pipelines/feeds/index.ts';
import { resolveFeed, valueAliasProblems } from '../../pipelines/feeds/resolve.ts';
import type { RuleId } from '../../pipelines/rules/index.ts';
import { type ConfigOf, configSchema } from '../../schemas/config.ts';

/**
 * The package's own folder: the shipped demo config is found from here wherever the command runs. Found by
 * walking up to package.json, since this code runs from src/config or bundled in dist/.
 */
export const PACKAGE_ROOT = packageRoot(dirname(fileURLToPath(import.meta.url)));

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return resolve(from, '..', '..');
  }
}
export const DEMO_CONFIG = join(PACKAGE_ROOT, 'config', 'demo-county.yaml');

/** `--config`, else RURALHUB_CONFIG, else the demo county's config shipped with the package. */
export function configPath(explicit?: string): string {
  return resolve(explicit ?? process.env.RURALHUB_CONFIG ?? DEMO_CONFIG);
}

/** A loaded county config: its feed and rule ids are the registries'. */
export type CountyConfig = ConfigOf<FeedId, RuleId>;
/** One scheduled job of a loaded config. */
export type CountyJob = CountyConfig['scheduler']['jobs'][string];

/**
 * The rule ids in catalog order, as scripts/build.js read them from the rules' registry when it made the bundle: a
 * JSON array in a string (esbuild's `define`; a string is written in place, an array would become a module of
 * its own that every chunk initializes). Undefined when running from the sources.
 */
declare const RURALHUB_BUILD_RULE_IDS: string | undefined;

/**
 * The keys of the rules' registry (pipelines/rules/index.ts). The bundle has them written in by its build, so
 * a command that loads its config does not load the thirteen rules, their zod schemas and SQL, only to check a
 * rule's name: ~45 ms of every such start (`npm run bench -- startup`). From the sources they are the registry's
 * own keys. Either way the registry is the one list of rule ids, and a bundle built before a rule was added is
 * never run (bin/source-stamp.js: the registry's file is among those it was built from).
 */
const RULE_IDS: readonly RuleId[] =
  typeof RURALHUB_BUILD_RULE_IDS === 'undefined'
    ? (Object.keys((await import('../../pipelines/rules/index.ts')).RULES) as RuleId[])
    : (JSON.parse(RURALHUB_BUILD_RULE_IDS) as RuleId[]);

/** An id of a registry, as the config takes it: one of `keys`, the registry's keys. */
function registryId<K extends string>(keys: readonly K[]) {
  return z.string().pipe(z.enum(keys as [K, ...K[]]));
}

/**
 * The config schema with the ids of the feeds' and the rules' registries: a new feed or rule is configurable.
 * (`Object.keys` types the keys as strings; the registries are object literals, so their keys are exactly K.)
 */
const countyConfigSchema = <R extends string>(rules: readonly R[]) =>
  configSchema({ feed: registryId(Object.keys(FEEDS) as FeedId[]), rule: registryId(rules) });
const CountyConfigSchema = countyConfigSchema(RULE_IDS);

function describeIssue(issue: z.core.$ZodIssue): string[] {
  // A record key that is no id (feeds.schools): zod says "Invalid key in record"; the key's own issue says
  // which ids there are.
  if (issue.code === 'invalid_key')
    return issue.issues.flatMap((i) => describeIssue({ ...i, path: issue.path }));
  const path = issue.path.length ? issue.path.join('.') : '(top level)';
  return [`${path}: ${issue.message}`];
}

/**
 * Parses and validates a config text; every error names the key path and what was expected. An extension's
 * rules are configurable when its registry is given (the one `runMatch` is given too): the whole registry, so
 * spread the project's `RULES` into it to keep configuring theirs.
 */
export function parseConfig(text: string, source: string): Readonly<CountyConfig>;
export function parseConfig<R extends string>(
  text: string,
  source: string,
  rules: Readonly<Record<R, unknown>>,
): Readonly<ConfigOf<FeedId, R>>;
export function parseConfig(
  text: string,
  source: string,
  rules?: Readonly<Record<string, unknown>>,
): Readonly<ConfigOf<FeedId, string>> {
  let raw: unknown;
  try {
    raw = source.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw configError(
      `${source}: not valid ${source.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  const parsed = (rules ? countyConfigSchema(Object.keys(rules)) : CountyConfigSchema).safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.flatMap(describeIssue);
    throw configError(`${source}: ${issues.join('; ')}`);
  }
  const vocabulary = Object.entries(parsed.data.feeds).flatMap(([id, f]) =>
    f ? valueAliasProblems(resolveFeed(id), f.value_aliases) : [],
  );
  if (vocabulary.length) throw configError(`${source}: ${vocabulary.join('; ')}`);
  return deepFreeze(parsed.data);
}

export function loadConfig(path: string): Readonly<CountyConfig> {
  if (!existsSync(path)) throw configError(`config file not found: ${path}`);
  return parseConfig(readFileSync(path, 'utf8'), path);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
