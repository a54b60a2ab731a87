import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeedId } from '../../schemas/vocab.ts';
import { buildCounty, type County, regionRows } from './county.ts';
import { buildServices, type Services } from './services.ts';
import { writeDemoFiles } from './write-files.ts';

export interface DemoCounty {
  dir: string;
  files: Partial<Record<FeedId, string>>;
  truthFile: string;
  /** The county's region table (行政区划代码, 名称, 级别, 上级代码), for `ruralhub regions load`. */
  regionsFile: string;
  truth: { as_of: string; persons: number } & County['truth'] & Services['truth'];
}

/**
 * Generates the synthetic demo county into `dir`: department files plus truth.json, the findings the
 * generator injected on purpose. Deterministic for the same persons, seed and reference date.
 */
export async function generateDemoCounty(opts: {
  dir: string;
  persons: number;
  /** Other residents beyond the focus population (insurance and settlements only); default none. */
  residents?: number;
  seed: number;
  asOf: string;
}): Promise<DemoCounty> {
  const county = buildCounty(opts);
  const services = buildServices(county, opts.seed, opts.residents ?? 0);
  const files = await writeDemoFiles(county, services, opts.dir, opts.seed);
  const dead = new Set(services.deaths.map((d) => d.id));
  const truth = {
    as_of: opts.asOf,
    persons: county.persons.length,
    R01: county.truth.R01.filter((id) => !dead.has(id)),
    // "alive": a focus person who died is no R02 finding, whatever the insurance says
    R02: county.truth.R02.filter((id) => !dead.has(id)),
    ...services.truth,
    quarantine: county.truth.quarantine,
  };
  const truthFile = join(opts.dir, 'truth.json');
  await writeFile(truthFile, `${JSON.stringify(truth, null, 2)}\n`);
  const regionsFile = join(opts.dir, 'regions-行政区划.csv');
  await writeFile(
    regionsFile,
    `${regionRows()
      .map((r) => r.join(','))
      .join('\r\n')}\r\n`,
  );
  return { dir: opts.dir, files, truthFile, regionsFile, truth };
}
