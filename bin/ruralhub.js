#!/usr/bin/env node
// The `ruralhub` command: the bundle in dist/ (`npm run build`, run by `npm install`) while it matches the
// sources, else the TypeScript sources through tsx's loader — so an edited checkout runs what it says.
import { pathToFileURL } from 'node:url';
import { BUNDLE, bundleIsFresh } from './source-stamp.js';

if (process.env.RURALHUB_FROM_SOURCE !== '1' && bundleIsFresh()) {
  await import(pathToFileURL(BUNDLE).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
