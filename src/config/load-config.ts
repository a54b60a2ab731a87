import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { z } from 'zod';
import { configError } from '../../core/errors.ts';
import { FEEDS, type FeedId } from '../../pipelines/feeds/index.ts';
import { resolveFeed, valueAliasProblems } from '../../pipelines/feeds/resolve.ts';
import { RULES, type RuleId } from '../../pipelines/rules/index.ts';
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
 * An id of a registry, as the config takes it: one of the registry's keys (`Object.keys` types them as strings;
 * the registries are object literals, so their keys are exactly K).
 */
function registryId<K extends string>(registry: Readonly<Record<K, unknown>>) {
  const keys = Object.keys(registry) as K[];
  return z.string().pipe(z.enum(keys as [K, ...K[]]));
}

/** The config schema with the ids of the feeds' and the rules' registries: a new feed or rule is configurable. */
const countyConfigSchema = <R extends string>(rules: Readonly<Record<R, unknown>>) =>
  configSchema({ feed: registryId(FEEDS), rule: registryId(rules) });
const CountyConfigSchema = countyConfigSchema(RULES);

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
  const parsed = (rules ? countyConfigSchema(rules) : CountyConfigSchema).safeParse(raw ?? {});
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
