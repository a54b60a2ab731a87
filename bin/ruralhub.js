#!/usr/bin/env node
// The `ruralhub` command: the bundle in dist/ (`npm run build`, run by `npm install`) while it matches the
// sources, else the TypeScript sources through tsx's loader — so an edited checkout runs what it says.
// Start-up (README, "Start-up"; `npm run bench -- startup`): this file loads nothing but the freshness check
// (one stat per file the bundle was built from); the bundle loads what a command needs when it runs.
import module from 'node:module';
import { pathToFileURL } from 'node:url';
import { BUNDLE, bundleIsFresh } from './source-stamp.js';

// Node ≥ 22.1 keeps V8's compiled code of every module on disk (in the OS temp folder, or NODE_COMPILE_CACHE),
// so a second start skips parsing and compiling; Node 20 has no such cache and starts without it.
module.enableCompileCache?.();

if (process.env.RURALHUB_FROM_SOURCE !== '1' && bundleIsFresh()) {
  await import(pathToFileURL(BUNDLE).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
