/**
 * Runs the `ruralhub` command in a child process without blocking the test worker: a synchronous spawn holds
 * the worker's event loop for the whole command, and vitest's worker → runner messages then time out
 * ("Timeout calling onTaskUpdate") on a loaded two-core machine even though every test passed.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const BIN = resolve(import.meta.dirname, '../../bin/ruralhub.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; entry?: string } = {},
): Promise<CliResult> {
  return new Promise((done, fail) => {
    // `entry`: another script than bin/ruralhub.js (a bundle's main.js built elsewhere).
    const child = spawn(process.execPath, [opts.entry ?? BIN, ...args], {
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}
