/**
 * The `ruralhub` command. Every sub-command lives in src/cli/commands/; this file only wires them, and turns
 * errors into one clear line and an exit code by kind (usage and config 2, data 3, transient 75, other 1).
 * `--verbose` adds the stack and causes.
 */
import { Command, CommanderError } from 'commander';
import { EXIT_CODES, RuralHubError } from '../../core/errors.ts';
import { databaseFault } from '../warehouse/connect.ts';
import { registerApprovals } from './commands/approvals.ts';
import { registerAudit } from './commands/audit.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDrop } from './commands/drop.ts';
import { registerFindings } from './commands/findings.ts';
import { registerIdentity } from './commands/identity.ts';
import { registerImport } from './commands/import.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerLists } from './commands/lists.ts';
import { registerMatch } from './commands/match.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerPrivacy } from './commands/privacy.ts';
import { registerQuarantine } from './commands/quarantine.ts';
import { registerRegions } from './commands/regions.ts';
import { registerReport } from './commands/report.ts';
import { registerRetention } from './commands/retention.ts';
import { registerRuns } from './commands/runs.ts';
import { registerScheduler } from './commands/scheduler.ts';
import { registerServe } from './commands/serve.ts';
import { registerStatus } from './commands/status.ts';

export function buildProgram(): Command {
  const program = new Command('ruralhub')
    .description(
      'Interagency data sharing for a rural-revitalization bureau: import department feeds into one\n' +
        'PostgreSQL warehouse, cross-match them, and send each department the list it must act on.',
    )
    .option(
      '-c, --config <file>',
      'deployment config (YAML/JSON); default: $RURALHUB_CONFIG or the demo county',
    )
    .option('-v, --verbose', 'debug logs, and stack traces on errors')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace')
    .addHelpText(
      'after',
      `
Environment:
  DATABASE_URL       PostgreSQL connection string (the config's database.url_env names the variable);
                     unset: an embedded PostgreSQL is started with its data in .ruralhub/pg
  RURALHUB_CONFIG    config file used when --config is not given

Example:
  $ ruralhub demo                         # the whole loop on a synthetic county
  $ ruralhub import roster --file 名册.csv
  $ ruralhub match --as-of 2026-11-24 && ruralhub lists export --out lists/`,
    );
  registerMigrate(program);
  registerImport(program);
  registerInspect(program);
  registerDrop(program);
  registerRegions(program);
  registerIdentity(program);
  registerMatch(program);
  registerLists(program);
  registerFindings(program);
  registerApprovals(program);
  registerRuns(program);
  registerStatus(program);
  registerAudit(program);
  registerReport(program);
  registerQuarantine(program);
  registerPrivacy(program);
  registerRetention(program);
  registerScheduler(program);
  registerServe(program);
  registerDemo(program);
  catchUsageErrors(program);
  return program;
}

/**
 * A command line commander cannot parse (an unknown command or option, a missing argument), with the command
 * it was meant for: main() prints it in one line and exits 2, as for any other usage or config mistake.
 */
class UsageError extends Error {
  readonly command: string;
  constructor(command: string, message: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/**
 * Commander prints its own errors (over several lines: the error, its suggestion) and exits 1. Every command
 * instead throws a UsageError naming itself, printed by main(); help and version output are left alone.
 */
function catchUsageErrors(cmd: Command): void {
  const path: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) path.unshift(c.name());
  cmd.configureOutput({ outputError: () => {} }).exitOverride((err) => {
    if (err.exitCode === 0 || err.code === 'commander.help') throw err;
    // "error: unknown command 'improt'\n(Did you mean import?)" → one line.
    const message = err.message
      .replace(/^error: /, '')
      .replace(/\s*\n\(Did you mean (.*)\?\)\s*$/s, '; did you mean $1?')
      .replace(/\s*\n\s*/g, ' ');
    throw new UsageError(path.join(' '), message);
  });
  for (const sub of cmd.commands) catchUsageErrors(sub);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`ruralhub: usage error: ${err.message} (see \`${err.command} --help\`)\n`);
      return EXIT_CODES.config;
    }
    // Help printed because a command needs a sub-command (`ruralhub identity`): a usage mistake too.
    if (err instanceof CommanderError)
      return err.code === 'commander.help' && err.exitCode !== 0 ? 2 : err.exitCode;
    const verbose = program.opts().verbose === true;
    // A lost connection or a timeout from any command is transient (exit 75: retry), not "unexpected".
    const known = err instanceof RuralHubError ? err : databaseFault(err);
    if (known) {
      process.stderr.write(`ruralhub: ${known.kind} error: ${known.message}\n`);
      if (verbose)
        process.stderr.write(
          `${known.stack}\n${known.cause instanceof Error ? `caused by: ${known.cause.stack}\n` : ''}`,
        );
      return EXIT_CODES[known.kind];
    }
    process.stderr.write(
      `ruralhub: unexpected error: ${(err as Error)?.message ?? String(err)}${verbose ? '' : ' (run with --verbose for details)'}\n`,
    );
    if (verbose) process.stderr.write(`${(err as Error)?.stack}\n`);
    return 1;
  }
}

// Exit explicitly, with main()'s code: nothing left open may keep the process alive or decide its status.
// Everything main() opened is closed by the time it returns (withWarehouse leaves or stops the embedded server
// in a finally).
const code = await main(process.argv);
process.exit(process.exitCode && code === 0 ? process.exitCode : code);
