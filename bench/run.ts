/**
 * `npm run bench -- <name> [args]`: runs bench/<name>.ts. Benchmarks measure and print figures against the
 * physical limit on the same machine in the same run; they never assert.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));
const name = process.argv[2];
if (!name || name === '--help' || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [options]\navailable: ${available.join(', ')}`);
  process.exit(name && name !== '--help' ? 2 : 0);
}
const file = join(here, `${name}.ts`);
if (!existsSync(file)) process.exit(2);
const mod = (await import(pathToFileURL(file).href)) as { main: (args: string[]) => Promise<void> };
await mod.main(process.argv.slice(3));
