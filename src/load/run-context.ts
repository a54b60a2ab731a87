/**
 * What the stages of one import run share (src/load/import-feed.ts calls them in turn): the caller's parameters
 * and the summary it gets back, the load's input as read before the feed is locked, the run's context once its
 * ledger row exists, what staging leaves for the stages after it, and the few things the failure handling and the
 * final cleanup must find even when a stage throws midway.
 */
import type { Stats } from 'node:fs';
import type { Selectable } from 'kysely';
import type { Connector, ReadMessage, ReadOptions, TitleRow } from '../../connectors/connector.ts';
import type { Logger } from '../../core/log.ts';
import type { phaseTimer } from '../../core/phase-timer.ts';
import type { FeedConfig } from '../../schemas/config.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { StatedDataDate } from '../normalize/data-date.ts';
import type { HeaderMapping, headerDetector } from '../normalize/header-map.ts';
import type { poolTimeouts, Warehouse } from '../warehouse/connect.ts';
import type { RunCounts } from '../warehouse/ledger.ts';
import type { Database } from '../warehouse/schema.ts';
import type { FileHashed } from './file-hash-thread.ts';
import type { FileSha } from './input-file.ts';
import type { Staging } from './placement.ts';
import type { LoadPlan } from './publish.ts';
import type { LateLoad } from './publish-late.ts';
import type { Recognition } from './recognition.ts';
import type { Recognized } from './recognize.ts';

export interface ImportParams {
  wh: Warehouse;
  feed: FeedDefinition;
  feedConfig?: Partial<FeedConfig>;
  /** A department file (CSV or workbook)… */
  path?: string;
  /** …or a source read through a connector (database, HTTP API), with its resume state. */
  source?: RecordSource;
  log: Logger;
  /** Reference date for "birth date in the future" (YYYY-MM-DD). */
  today: string;
  timeZone: string;
  /** Publish a snapshot even if it shrinks the feed beyond `max_shrink`. */
  confirmShrink?: boolean;
  /** Load even if the same file was the last successful load. */
  force?: boolean;
  /** Progress for a person watching (src/cli/progress.ts): called often, must be cheap. */
  onProgress?: (p: ImportProgress) => void;
  /**
   * The date the data describes when the caller knows it: `import --data-date` ('flag') or a scheduled job's
   * own date ('job'). It wins over a date the file states; without it, the file's statement, else the load day.
   */
  dataDate?: { date: string; from: 'flag' | 'job' };
  /** The load's local date (YYYY-MM-DD in `timeZone`); default: now, by the clock. */
  loadDay?: string;
  /** `path`'s hash, started before the warehouse was opened (file-hash-thread.ts); used if it is of this file. */
  earlySha?: Promise<FileHashed | null>;
}

export interface ImportProgress {
  phase: 'staging' | 'normalize' | 'plan' | 'publish';
  rows?: number;
  bytes?: number;
  totalBytes?: number;
}

/**
 * A non-file source: a label for positions and the ledger, and its read (connectors/*). Incremental sources
 * end their stream with a checkpoint; the loader passes the saved one back as `cursor` on the next run and
 * stores the new one in the same transaction as the rows it covers.
 */
export interface RecordSource {
  label: string;
  read(options: ReadOptions): AsyncIterable<ReadMessage>;
  /** The column of its records that states the data date (a source's `data_date_column`). */
  dataDateColumn?: string;
}

export interface ImportSummary {
  runId: number;
  feed: string;
  source: string;
  status: 'succeeded' | 'noop' | 'held';
  counts: RunCounts;
  /** Rejected values by problem code, for the summary line. */
  problems: Record<string, number>;
  unmappedColumns: string[];
  /**
   * Rows recognised by their raw hash as an unchanged current version and taken from it instead of being
   * normalized again (not a ledger count: they are counted as loaded like any other row).
   */
  recognized?: number;
  message?: string;
  /** The date the data describes and where it came from (runs.data_date, runs.data_date_from), when known. */
  dataDate?: { date: string; from: string };
}

/** Milliseconds per named phase, for the run's log line (core/phase-timer.ts). */
export type PhaseTimer = ReturnType<typeof phaseTimer>;

/** The load as importFeed reads it from its parameters, before it locks the feed. */
export interface LoadInput {
  wh: Warehouse;
  params: ImportParams;
  /** The feed as this county declares it (countyFeed). */
  feed: FeedDefinition;
  /** The file loaded; undefined when the load reads `params.source`. */
  path: string | undefined;
  /** The file's name or the source's label: for positions, the ledger and messages. */
  source: string;
  /** The file's reader; null for a source read through its own connector. */
  connector: Connector<{ path: string }> | null;
  /** The county's spellings of the feed's headers (feeds.<feed>.header_aliases). */
  headerAliases: Readonly<Record<string, readonly string[]>>;
  isHeader: ReturnType<typeof headerDetector>;
  limits: ReturnType<typeof poolTimeouts>;
  phase: PhaseTimer;
}

/**
 * What the failure handling and the final cleanup need of a run, set by the stage that gets it as soon as it has
 * it: a stage that throws later has set it already.
 */
export interface RunHandles {
  /** The run's ledger row; 0 until it exists. */
  runId: number;
  /** The file's hash into the ledger row of a failed run (FileSha.record outside a transaction). */
  recordSha: (() => Promise<unknown>) | null;
  /** A new base of the recognition cache being written alongside normalization, or null. */
  base: Promise<void> | null;
}

/** A run with its ledger row, past the no-op decision: what every later stage reads. */
export interface RunContext extends LoadInput {
  runId: number;
  /** The run's logger: every line names the run and the feed. */
  log: Logger;
  /** The run's staging tables (stage.ts stagingNames). */
  raw: string;
  norm: string;
  unseen: string;
  /** The feed's table is distributed by Citus: the statements meeting it take their cluster forms (placement.ts). */
  distributed: boolean;
  /** The feed's state as the run found it (no row before its first successful load). */
  state: Selectable<Database['feed_state']> | undefined;
  /** What the feed's table was when this load started: a write since by anything else fails the load. */
  generation: string | null;
  /** The file's size when the run started; null for a connector's source. */
  bytes: number | null;
  /** The file as the run found it: what it must still be once staged and hashed (assertUnchanged). */
  opened: Stats | null;
  sha: FileSha;
  /** The normalization settings' fingerprint (normalizationFingerprint). */
  fingerprint: string;
  /** What the same file must have been loaded under to be the same load (feed_state.last_settings_hash). */
  settingsHash: string;
  /** The load's local date: the caller's `today` (import --as-of) unless told otherwise. */
  loadDay: string;
  /** The load is late at the data date the caller gave, or at the load day (before the file is read). */
  lateBefore: LateLoad | null;
}

/** A row the connector could not read (ragged, a quote never closed …). */
export type ConnectorProblem = Extract<ReadMessage, { type: 'problem' }>;

/** The run's file or source in raw staging (or, by the bulk path in Node, normalized staging already). */
export interface Staged {
  header: readonly string[];
  /** The header's row in the file: 1 on the bulk path; 0 on the record path, whose records carry their own row numbers. */
  headerRow: number;
  /** Staged by the bulk path (not read row by row). */
  bulkStaged: boolean;
  /** Normalized as it was staged (the bulk path, in Node): normalized staging is there already. */
  normalizedInNode: boolean;
  /** Normalized in Node, and no two valid staged rows share a business key: there is nothing to rank. */
  keysUnique: boolean;
  /** The records left out of staging as current versions byte for byte, or null. */
  recognized: Recognized | null;
  connectorProblems: ConnectorProblem[];
  connectorSkipped: number;
  /** An incremental source's checkpoint at the end of its read: stored with the rows it covers. */
  checkpoint: string | undefined;
  /** How a connector bounded its read (full, or from which cursor value): into the run's details. */
  readBounds: Record<string, string | number> | undefined;
  /** The rows above the header the reader passed (title lines): where a file states its data date. */
  titles: readonly TitleRow[] | undefined;
  /** A source stating its data date in a column of its records: the latest date there. */
  columnStated: StatedDataDate | null;
}

/** The run's data date, settled once the file is staged (settle-data-date.ts). */
export interface Dated {
  dataDate: { date: string; from: string };
  /** Earlier than a data date already loaded: the load takes its place in the history (publish-late.ts). */
  late: LateLoad | null;
}

/** The staged rows normalized and linked (normalize-link.ts). */
export interface Normalized {
  /** The staged header's columns by field (and the cells as the file spelled them). */
  mapping: HeaderMapping;
  /** The staged rows as the statements meeting the feed's table read them. */
  staging: Staging;
}

/** What publishing the run would do (plan-run.ts). */
export interface Planned {
  plan: LoadPlan;
  counts: RunCounts;
  /** Rejected values by problem code, for the summary line and the ledger. */
  problems: Record<string, number>;
  /** What the statements read of the records recognised before staging: as the plan counted them, so the publish. */
  recognition: Recognition;
}

/** A run ready to publish or be held: all the stages before found. */
export type PlannedLoad = Staged & Dated & Normalized & Planned;
