/**
 * The deployment configuration (one YAML or JSON file per county), validated once at start.
 * Secrets never appear in it: only the NAMES of environment variables that hold them.
 */
import { z } from 'zod';
import { FEED_IDS, RULE_IDS } from './vocab.ts';

const envName = z
  .string()
  .regex(
    /^[A-Z_][A-Z0-9_]*$/,
    'an environment variable name such as DATABASE_URL (the value itself never goes here)',
  );

const sqlName = z.string().regex(/^[a-z_][a-z0-9_]{0,40}$/, 'a lower-case SQL name (letters, digits, _)');

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

export const FeedConfigSchema = z
  .object({
    /** Extra header spellings per canonical field, added to the reference aliases of the feed. */
    header_aliases: z.record(z.string(), z.array(z.string().min(1))).default({}),
    /** Sheet to read in workbooks (name or 0-based index). */
    sheet: z.union([z.string(), z.number().int().min(0)]).optional(),
    /** Snapshot guard rail: hold a load that shrinks the feed by more than this share. */
    max_shrink: z.number().min(0).max(1).default(0.3),
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

export const ConfigSchema = z
  .object({
    county: z
      .object({
        name: z.string().min(1),
        /** 6-digit county code (first 6 digits of the 12-digit statistical division code). */
        code: z.string().regex(/^\d{6}$/, 'a 6-digit county code'),
      })
      .strict(),
    timezone: z.string().default('Asia/Shanghai'),
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
    feeds: z.partialRecord(z.enum(FEED_IDS), FeedConfigSchema).default({}),
    rules: z.partialRecord(z.enum(RULE_IDS), RuleConfigSchema).default({}),
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
        feed_max_age_days: z.partialRecord(z.enum(FEED_IDS), z.number().int().positive()).default({}),
      })
      .strict()
      .default({ max_feed_age_days: 45, feed_max_age_days: {} }),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
export type FeedConfig = z.infer<typeof FeedConfigSchema>;
export type RuleConfig = z.infer<typeof RuleConfigSchema>;
