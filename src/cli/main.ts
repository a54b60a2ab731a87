/**
 * The `ruralhub` command. Every sub-command lives in src/cli/commands/; this file only wires them, and turns
 * errors into one clear line and an exit code by kind (usage and config 2, data 3, transient 75, other 1).
 * `--verbose` adds the stack and causes.
 */
import { Command, CommanderError } from 'commander';
import { EXIT_CODES, RuralHubError } from '../../core/errors.ts';
// The version as the package states it, once: esbuild puts it into the bundle (and package.json among the files
// the bundle's freshness is checked against), tsx reads it from the checkout.
import pkg from '../../package.json' with { type: 'json' };

type Register = (program: Command) => void;

/**
 * Every command module, in the order `ruralhub --help` lists them, with the top-level commands it registers. A
 * command line naming one of them loads that module only (and what its action imports when it runs): start-up
 * is what the command needs, not the whole tree (README, "Start-up"). Help of the whole tree, `help`, an
 * unknown command or anything ambiguous loads every module, and checks this table against what they register.
 */
const MODULES: readonly { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ['migrate'], load: async () => (await import('./commands/migrate.ts')).registerMigrate },
  { names: ['import'], load: async () => (await import('./commands/import.ts')).registerImport },
  { names: ['check', 'discover'], load: async () => (await import('./commands/inspect.ts')).registerInspect },
  { names: ['drop'], load: async () => (await import('./commands/drop.ts')).registerDrop },
  { names: ['regions'], load: async () => (await import('./commands/regions.ts')).registerRegions },
  { names: ['identity'], load: async () => (await import('./commands/identity.ts')).registerIdentity },
  { names: ['match'], load: async () => (await import('./commands/match.ts')).registerMatch },
  { names: ['lists'], load: async () => (await import('./commands/lists.ts')).registerLists },
  {
    names: ['findings'],
    load: async () => (await import('./commands/findings-command.ts')).registerFindings,
  },
  { names: ['approvals'], load: async () => (await import('./commands/approvals.ts')).registerApprovals },
  { names: ['runs'], load: async () => (await import('./commands/runs.ts')).registerRuns },
  { names: ['status'], load: async () => (await import('./commands/status.ts')).registerStatus },
  { names: ['audit'], load: async () => (await import('./commands/audit.ts')).registerAudit },
  { names: ['report'], load: async () => (await import('./commands/report.ts')).registerReport },
  { names: ['quarantine'], load: async () => (await import('./commands/quarantine.ts')).registerQuarantine },
  { names: ['privacy'], load: async () => (await import('./commands/privacy.ts')).registerPrivacy },
  { names: ['retention'], load: async () => (await import('./commands/retention.ts')).registerRetention },
  {
    names: ['scheduler', 'run'],
    load: async () => (await import('./commands/scheduler.ts')).registerScheduler,
  },
  { names: ['serve', 'tokens'], load: async () => (await import('./commands/serve.ts')).registerServe },
  { names: ['demo'], load: async () => (await import('./commands/demo.ts')).registerDemo },
];

/** The program's own options that take a value (the command's name is the first word that is neither). */
const VALUE_OPTIONS = new Set(['-c', '--config', '--log-level']);
const FLAG_OPTIONS = new Set(['-v', '--verbose']);
/** `-V` (`-v` is --verbose), as commander names it by default. */
const VERSION_OPTIONS = new Set(['-V', '--version']);

/** `ruralhub --version`: the program's option before any command's name; it needs no command module. */
function versionOnly(argv: readonly string[]): boolean {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (VERSION_OPTIONS.has(a)) return true;
    if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) return false;
  }
  return false;
}

/**
 * The module of the command `argv` runs, when that is certain: the first word after the program's own options
 * names one. Null (every module) for help of the whole tree, `help`, an unknown command, and any option this
 * does not know before the command's name.
 */
function moduleOf(argv: readonly string[]): (typeof MODULES)[number] | null {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUE_OPTIONS.has(a)) i++;
    else if (a.startsWith('--config=') || a.startsWith('--log-level=') || FLAG_OPTIONS.has(a)) continue;
    else if (a.startsWith('-')) return null;
    else return MODULES.find((m) => m.names.includes(a)) ?? null;
  }
  return null;
}

export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
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
    .version(pkg.version, '-V, --version', "print RuralHub's version")
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
  const version = versionOnly(argv);
  const one = moduleOf(argv);
  const modules = version ? [] : one ? [one] : MODULES;
  for (const register of await Promise.all(modules.map((m) => m.load()))) register(program);
  if (!one && !version) {
    const registered = program.commands.map((c) => c.name()).join(', ');
    const listed = MODULES.flatMap((m) => m.names).join(', ');
    if (registered !== listed)
      throw new Error(`src/cli/main.ts MODULES lists ${listed}; the modules register ${registered}`);
  }
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
  const program = await buildProgram(argv);
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
    // connect.ts (pg, kysely) is loaded only when a command failed with something else: not on every start.
    const known =
      err instanceof RuralHubError ? err : (await import('../warehouse/connect.ts')).databaseFault(err);
    // A message may quote a cell, and a cell an ID number: masked here, once, for every command (loaded on failure only).
    const { maskIdsInText } = await import('../normalize/mask.ts');
    if (known) {
      process.stderr.write(`ruralhub: ${known.kind} error: ${maskIdsInText(known.message)}\n`);
      if (verbose)
        process.stderr.write(
          `${known.stack}\n${known.cause instanceof Error ? `caused by: ${known.cause.stack}\n` : ''}`,
        );
      return EXIT_CODES[known.kind];
    }
    process.stderr.write(
      `ruralhub: unexpected error: ${maskIdsInText((err as Error)?.message ?? String(err))}${verbose ? '' : ' (run with --verbose for details)'}\n`,
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
