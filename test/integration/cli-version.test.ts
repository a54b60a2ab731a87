/**
 * `ruralhub --version` prints the package's version and exits 0 (it was a usage error, exit 2); `--help` lists
 * it beside the program's other options.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';

const { version } = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as {
  version: string;
};

describe('ruralhub --version', () => {
  it.each(
    [['--version'], ['-V'], ['--config', 'no-such.yaml', '--version']].map((a) => [a.join(' '), a] as const),
  )('%s prints the version of package.json alone, exit 0', async (_, args) => {
    const r = await runCli(args);
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('is listed by --help', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}-V, --version +print RuralHub's version$/m);
  });
});
