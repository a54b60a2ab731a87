import type { Command } from 'commander';

/**
 * The options of a command that lists rows: at most how many (`-n, --limit`) and in which format. Added last,
 * after the command's own filters, as its help lists them.
 */
export function listOptions(command: Command, limit: { help: string; default: number }): Command {
  return command
    .option('-n, --limit <n>', limit.help, String(limit.default))
    .option('--format <format>', 'table, csv or json', 'table');
}

/** --limit as a row count: at least 1, the command's default when it is no number. */
export function rowLimit(value: string, fallback: number): number {
  return Math.max(1, Number(value) || fallback);
}
