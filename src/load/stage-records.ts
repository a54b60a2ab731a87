/**
 * The record stage: a file the bulk path does not take (a workbook, a file COPY rejected) or a connector's source
 * read record by record into raw staging — rows the reader could not read kept as problems, an incremental
 * source's checkpoint and the title rows above the header (where a file states its data date) kept for later.
 */
import type { ReadMessage, ReadOptions, TitleRow } from '../../connectors/connector.ts';
import { statedInColumn } from '../normalize/data-date.ts';
import { mapHeader } from '../normalize/header-map.ts';
import type { RunContext, Staged } from './run-context.ts';
import { copyRecords, createRawTable } from './stage.ts';

export async function stageRecords(run: RunContext): Promise<Staged> {
  const { wh, params: p, feed, path, connector, source, headerAliases: extra, isHeader } = run;
  const { db } = wh;
  const { raw, state, log: rlog } = run;
  let checkpoint: string | undefined;
  /** How a connector bounded its read (full, or from which cursor value): into the run's details. */
  let readBounds: Record<string, string | number> | undefined;
  /** The rows above the header the reader passed (title lines): where a file states its data date. */
  let titles: readonly TitleRow[] | undefined;
  /** A source stating its data date in a column of its records: the latest date there. */
  const columnDate = p.source?.dataDateColumn ? statedInColumn(p.source.dataDateColumn) : undefined;
  const options: ReadOptions = {
    isHeader,
    ...(p.feedConfig?.sheet !== undefined ? { sheet: p.feedConfig.sheet } : {}),
    ...(state?.cursor ? { cursor: state.cursor } : {}),
  };
  const read = path !== undefined ? connector!.read({ path }, options) : p.source!.read(options);
  const messages = columnDate ? columnDate.watch(read) : read;
  const res = await copyRecords(
    db,
    wh.pool,
    raw,
    takeCheckpoint(
      messages,
      (c, read) => {
        checkpoint = c;
        readBounds = read;
      },
      (t) => {
        titles = t;
      },
    ),
    async (cols, at) => {
      // A workbook's header is named with its sheet and row: without --sheet, the reader reports the sheet
      // most like the feed's table when none has its columns, and the message must say which one it was.
      mapHeader(
        feed,
        cols,
        at.sheet === undefined ? source : `${source} sheet '${at.sheet}' row ${at.row}`,
        extra,
      );
      await createRawTable(db, raw, cols.length);
    },
    (rows) => p.onProgress?.({ phase: 'staging', rows }),
  );
  rlog.info({ rows: res.rows, malformed: res.problems.length, path: 'records' }, 'staged');
  return {
    header: res.header,
    headerRow: 0, // records carry their own row numbers
    bulkStaged: false,
    normalizedInNode: false,
    keysUnique: false,
    recognized: null,
    connectorProblems: res.problems,
    connectorSkipped: res.skipped,
    checkpoint,
    readBounds,
    titles,
    columnStated: columnDate?.stated() ?? null,
  };
}

/**
 * Passes records through and hands the stream's final checkpoint to `save` (the stager ignores them), and the
 * header's title rows to `titled`.
 */
async function* takeCheckpoint(
  messages: AsyncIterable<ReadMessage>,
  save: (cursor: string, read?: Record<string, string | number>) => void,
  titled: (titles: readonly TitleRow[]) => void,
): AsyncGenerator<ReadMessage> {
  for await (const m of messages) {
    if (m.type === 'checkpoint') save(m.cursor, m.read);
    else {
      if (m.type === 'header' && m.titles) titled(m.titles);
      yield m;
    }
  }
}
