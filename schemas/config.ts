/**
 * The deployment configuration (one YAML or JSON file per county), validated once at start.
 * Secrets never appear in it: only the NAMES of environment variables that hold them.
 *
 * Feed and rule ids are the keys of their registries (pipelines/feeds, pipelines/rules), floors above this one:
 * the schema takes the schemas of the ids as parameters — any string by default — and src/config/load-config.ts
 * passes the registries' ids, so a config naming an unknown feed or rule is refused there, the key named.
 */

import { createRequire } from 'node:module';
import type * as CronParser from 'cron-parser';
import { z } from 'zod';
import { SourceConfigSchema } from './sources.ts';
import { DEPARTMENTS } from './vocab.ts';

const envName = z
  .string()
  .regex(
    /^[A-Z_][A-Z0-9_]*$/,
    'an environment variable name such as DATABASE_URL (the value itself never goes here)',
  );

const sqlName = z.string().regex(/^[a-z_][a-z0-9_]{0,40}$/, 'a lower-case SQL name (letters, digits, _)');

/**
 * Zones known good without asking Intl: the default county's and UTC, which every Node.js build has. The first
 * Intl.DateTimeFormat of a process costs ~25 ms (ICU's time zone data), paid at every start only to check a
 * config that names the usual zone. Any other zone is asked once and remembered.
 */
const KNOWN_ZONES = new Set(['Asia/Shanghai', 'UTC']);

/** A zone Intl accepts (IANA names; case-insensitive, as PostgreSQL takes them too). */
/**
 * An IANA zone name (Area/Location) or UTC, that Node.js knows. Abbreviations are refused although Intl takes
 * some: `CST` is China Standard Time to a person and America/Chicago to Intl.
 */
function isTimeZone(name: string): boolean {
  if (!/^(UTC|Etc\/[A-Za-z0-9+-]+|[A-Za-z_]+\/[A-Za-z0-9_+/-]+)$/.test(name)) return false;
  if (KNOWN_ZONES.has(name)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
  } catch {
    return false;
  }
  KNOWN_ZONES.add(name);
  return true;
}

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

export const FeedConfigSchema = z
  .object({
    /** Extra header spellings per canonical field, added to the reference aliases of the feed. */
    header_aliases: z.record(z.string(), z.array(z.string().min(1))).default({}),
    /**
     * Extra spellings of closed-vocabulary values per field, added to the reference ones: field → canonical
     * value → spellings, e.g. `employment_status: { employed: [务工] }`. Checked against the feed at start.
     */
    value_aliases: z.record(z.string(), z.record(z.string(), z.array(z.string().min(1)))).default({}),
    /** Sheet to read in workbooks (name or 0-based index). */
    sheet: z.union([z.string(), z.number().int().min(0)]).optional(),
    /** Snapshot guard rail: hold a load that shrinks the feed by more than this share. */
    max_shrink: z.number().min(0).max(1).default(0.3),
    /**
     * A department database or HTTP API read instead of files: `ruralhub import <feed>` without --file reads it.
     * `kind: sql` or `kind: http` (schemas/sources.ts).
     */
    source: SourceConfigSchema.optional(),
  })
  .strict();

export const RuleConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    deadline_days: z.number().int().positive().optional(),
    /** A finding closed by review (not_an_issue accepted) is not reopened before this many days. */
    suppress_days: z.number().int().positive().optional(),
    /** Rule-specific parameters; each rule validates its own with its zod schema. */
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

/** A folder below drop.root: relative, no `..` — nothing outside the root is ever read. */
const dropFolder = z
  .string()
  .min(1)
  .refine((v) => !v.startsWith('/') && !v.split(/[\\/]/).includes('..'), {
    message: 'a folder relative to drop.root, without ..',
  });

/**
 * The schemas of the ids a config names: feed ids (config keys `feeds.<feed>`, drop folders, jobs) and rule ids
 * (`rules.<rule>`, match jobs). Strings that are ids: each parses to its own type.
 */
export interface ConfigIds<F extends string, R extends string> {
  feed: z.ZodType<F, string>;
  rule: z.ZodType<R, string>;
}

/** File drops: departments (or their sync jobs) put files in a folder per feed; `ruralhub drop` takes them. */
function dropConfigSchema<F extends string>(feedId: z.ZodType<F, string>) {
  return z
    .object({
      root: z.string().min(1),
      folders: z.partialRecord(feedId, dropFolder).default({}),
      /** A file without a `<name>.done` marker is taken once it has not changed for this long. */
      stable_seconds: z.number().min(0).default(60),
    })
    .strict();
}

/**
 * cron-parser, loaded by the first cron expression checked: it brings luxon (~360 KB together), which a config
 * without scheduled jobs — most commands' — never needs (README, "Start-up").
 */
let cronParser: typeof CronParser.CronExpressionParser | undefined;

/** A cron expression (5 fields, or 6 with seconds), checked by cron-parser when the config is loaded. */
const cronExpr = z.string().refine(
  (v) => {
    try {
      cronParser ??= (createRequire(import.meta.url)('cron-parser') as typeof CronParser)
        .CronExpressionParser;
      cronParser.parse(v);
      return true;
    } catch {
      return false;
    }
  },
  { message: "a cron expression such as '0 2 * * *' (minute hour day month weekday)" },
);

const jobCommon = {
  cron: cronExpr,
  enabled: z.boolean().default(true),
  /** Overrides scheduler.max_attempts for this job. */
  max_attempts: z.number().int().min(1).max(20).optional(),
};

/** One scheduled job: what it does is closed (import, match, lists, drop, report, retention); when is its cron expression. */
function jobSchema<F extends string, R extends string>({ feed, rule }: ConfigIds<F, R>) {
  return z.discriminatedUnion('kind', [
    z
      .object({
        kind: z.literal('import'),
        feed,
        /** The file the department delivers (re-read each time; an unchanged file is a cheap no-op run);
         *  without it, the feed's configured database source (feeds.<feed>.source) is read. */
        path: z.string().min(1).optional(),
        ...jobCommon,
      })
      .strict(),
    z
      .object({
        kind: z.literal('match'),
        /** Rules of the suite (default: all enabled). */
        rules: z.array(rule).optional(),
        /** Feeds that must have loaded successfully within window_hours before the slot, else the suite is held. */
        needs: z.array(feed).default([]),
        window_hours: z.number().positive().default(24),
        ...jobCommon,
      })
      .strict(),
    z
      .object({
        kind: z.literal('lists'),
        department: z.enum(DEPARTMENTS).optional(),
        ...jobCommon,
      })
      .strict(),
    z
      .object({
        /** Take the complete files waiting in the drop folders (all feeds, or one). */
        kind: z.literal('drop'),
        feed: feed.optional(),
        ...jobCommon,
      })
      .strict(),
    z
      .object({
        /** The monthly report of the month before the slot. */
        kind: z.literal('report'),
        ...jobCommon,
      })
      .strict(),
    z
      .object({
        /** The retention schedule (`retention`): what is older than it is deleted, as `ruralhub retention run`. */
        kind: z.literal('retention'),
        ...jobCommon,
      })
      .strict(),
  ]);
}

function schedulerConfigSchema<F extends string, R extends string>(ids: ConfigIds<F, R>) {
  return z
    .object({
      /** Missed slots younger than this are caught up after a downtime (latest slot only); older ones are not. */
      catch_up_hours: z.number().min(0).default(24),
      /** Attempts per slot for transient faults (source unreachable, timeouts); config and data errors: one. */
      max_attempts: z.number().int().min(1).max(20).default(3),
      backoff_base_seconds: z.number().positive().default(30),
      backoff_max_seconds: z.number().positive().default(1800),
      /** On SIGTERM/SIGINT the running job gets this long to finish; then the process exits and it rolls back. */
      grace_seconds: z.number().min(0).default(120),
      /** Environment variable holding a webhook URL; failures after retries and held suites are POSTed there. */
      alert_webhook_env: envName.optional(),
      jobs: z
        .record(
          z.string().regex(/^[a-z0-9][a-z0-9_-]{0,60}$/, 'a job name: a-z, 0-9, _ and -'),
          jobSchema(ids),
        )
        .default({}),
    })
    .strict();
}

const target = z.number().min(0).max(1);
/** Targets of the indicators of DOMAIN §8 (shares 0–1) and the margin below a target that is "at risk". */
export const IndicatorTargetsSchema = z
  .object({
    education_retention: target.default(1),
    medical_insurance: target.default(0.99),
    housing_safety: target.default(1),
    water_safety: target.default(1),
    safety_net: target.default(1),
    /** 达标 at or above the target; 风险 within this margin below it; 未达标 below that. */
    risk_margin: z.number().min(0).max(1).default(0.02),
  })
  .strict();
export type IndicatorTargets = z.infer<typeof IndicatorTargetsSchema>;

/**
 * Bulk operations that need a second person's approval (docs/privacy.md, "Approvals"); work below these
 * thresholds stays one step.
 */
export const ApprovalsConfigSchema = z
  .object({
    /** `findings --full-ids` listing more rows than this needs an approval (one finding: never). */
    findings_full_ids_max_rows: z.number().int().min(1).default(50),
    /** Person lookups per API token and county day (API and console together) beyond which each needs one. */
    person_lookups_per_day: z.number().int().min(1).default(100),
    /** An approval must be decided and used within this many hours of its request. */
    valid_hours: z.number().positive().max(720).default(24),
  })
  .strict();
export type ApprovalsConfig = z.infer<typeof ApprovalsConfigSchema>;

/**
 * Retention (issue 27; PIPL Arts. 19, 47: kept no longer than the purpose needs, then deleted): what
 * `ruralhub retention run` and the scheduler's `retention` job delete, and when (docs/privacy.md, "Retention").
 * Days and years count back from the run's day in the county's time zone.
 */
export const RetentionConfigSchema = z
  .object({
    /**
     * A file in a drop folder's processed/ is deleted this many days after the load that read it succeeded
     * (runs keep its SHA-256, so the ledger still says which bytes were loaded). 90: a quarter to find out that a
     * load was wrong and load its file again.
     */
    drop_files_days: z.number().int().min(0).default(90),
    /**
     * A quarantined row's raw values (raw_value, the whole raw record) are emptied this many days after its run;
     * the row (file, row, field, reason) and the run's counts stay. 180: two monthly cycles of a department
     * correcting and resending, with room for the identity review. The feed's current load is never emptied.
     */
    quarantine_days: z.number().int().min(0).default(180),
    /**
     * Feed versions ended (valid_to) more than this many years ago are deleted. 5: the monitoring period of the
     * 过渡期 and the reviews (后评估) that look back over it.
     */
    history_years: z.number().int().min(1).default(5),
    /** Closed findings kept this many years; unset: each rule's own `processing.retentionYears` (3 today). */
    findings_years: z.number().int().min(1).optional(),
    /**
     * A person who has been on no list — no current version in any feed, none ended later, no finding left — for
     * this many years loses the ID number (persons.id_number; the surrogate key stays). 5, as history_years.
     */
    lists_years: z.number().int().min(1).default(5),
  })
  .strict();
export type RetentionConfig = z.infer<typeof RetentionConfigSchema>;

/** The config schema with these id schemas (the registries' ids: src/config/load-config.ts). */
export function configSchema<F extends string, R extends string>(ids: ConfigIds<F, R>) {
  return z
    .object({
      county: z
        .object({
          name: z.string().min(1),
          /** 6-digit county code (first 6 digits of the 12-digit statistical division code). */
          code: z.string().regex(/^\d{6}$/, 'a 6-digit county code'),
        })
        .strict(),
      // Checked here, not where it is first used (a date in an import, after the database has started): a
      // mistyped zone is a config error naming the key.
      timezone: z
        .string()
        .refine(isTimeZone, {
          error: (issue) =>
            `'${String(issue.input)}' is not a time zone this Node.js knows; expected an IANA name such as Asia/Shanghai`,
        })
        .default('Asia/Shanghai'),
      database: z
        .object({
          /** Environment variable holding the connection string. Unset → the embedded server is used. */
          url_env: envName.default('DATABASE_URL'),
          /** Schema holding the warehouse tables. */
          schema: sqlName.default('ruralhub'),
          embedded: z
            .object({
              data_dir: z.string().default('.ruralhub/pg'),
              port: z.number().int().min(0).max(65535).default(0),
            })
            .strict()
            .default({ data_dir: '.ruralhub/pg', port: 0 }),
        })
        .strict()
        .default({
          url_env: 'DATABASE_URL',
          schema: 'ruralhub',
          embedded: { data_dir: '.ruralhub/pg', port: 0 },
        }),
      paths: z
        .object({
          /** Department lists, reports and demo files are written below this folder. */
          output_dir: z.string().default('.ruralhub/out'),
        })
        .strict()
        .default({ output_dir: '.ruralhub/out' }),
      feeds: z.partialRecord(ids.feed, FeedConfigSchema).default({}),
      rules: z.partialRecord(ids.rule, RuleConfigSchema).default({}),
      drop: dropConfigSchema(ids.feed).optional(),
      indicators: IndicatorTargetsSchema.default({
        education_retention: 1,
        medical_insurance: 0.99,
        housing_safety: 1,
        water_safety: 1,
        safety_net: 1,
        risk_margin: 0.02,
      }),
      scheduler: schedulerConfigSchema(ids).default({
        catch_up_hours: 24,
        max_attempts: 3,
        backoff_base_seconds: 30,
        backoff_max_seconds: 1800,
        grace_seconds: 120,
        jobs: {},
      }),
      matching: z
        .object({
          /** Default reference date for rules; unset → today in the configured time zone. */
          as_of: isoDate.optional(),
          /**
           * A rule does not run when a feed it requires last loaded longer ago than this many days: a stale
           * feed must never close findings for lack of evidence.
           */
          max_feed_age_days: z.number().int().positive().default(45),
          /** Per-feed exceptions to max_feed_age_days (e.g. a yearly insurance file: 400). */
          feed_max_age_days: z.partialRecord(ids.feed, z.number().int().positive()).default({}),
        })
        .strict()
        .default({ max_feed_age_days: 45, feed_max_age_days: {} }),
      retention: RetentionConfigSchema.default({
        drop_files_days: 90,
        quarantine_days: 180,
        history_years: 5,
        lists_years: 5,
      }),
      approvals: ApprovalsConfigSchema.default({
        findings_full_ids_max_rows: 50,
        person_lookups_per_day: 100,
        valid_hours: 24,
      }),
    })
    .strict();
}

/** The parsed config whose feed and rule ids are `F` and `R` (load-config's: the registries' ids). */
export type ConfigOf<F extends string, R extends string> = z.infer<ReturnType<typeof configSchema<F, R>>>;
/**
 * The parsed config as the floors below the registries see it: ids as strings. A config that has been loaded
 * names only the registries' ids (src/config/load-config.ts, whose `CountyConfig` types them).
 */
export type Config = ConfigOf<string, string>;
export type FeedConfig = z.infer<typeof FeedConfigSchema>;
