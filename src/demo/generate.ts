import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeedId } from '../../pipelines/feeds/index.ts';
import { buildCounty, COUNTY, type County, regionRows } from './county.ts';
import type { FileShape } from './file-shape.ts';
import { buildServices, type Services } from './services/index.ts';
import { writeDemoFiles } from './write-files.ts';

export interface DemoCounty {
  dir: string;
  /** The county's 6-digit code: the one `ruralhub regions load` must be given to keep it from the province's list. */
  countyCode: string;
  files: Partial<Record<FeedId, string>>;
  /** What each feed's file holds: its records, and the rows below the table a reader must skip (and count). */
  shapes: Partial<Record<FeedId, FileShape>>;
  truthFile: string;
  /**
   * The province's published region list (行政区划代码, 名称, 级别, 上级代码), for `ruralhub regions load`: the
   * province and its cities, the demo county with its townships and villages, other counties with theirs.
   */
  regionsFile: string;
  /** The list's rows by what a load of the demo county makes of them. */
  regionRows: { county: number; township: number; village: number; above: number; otherCounties: number };
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
  const written = await writeDemoFiles(county, services, opts.dir, opts.seed);
  const files: DemoCounty['files'] = {};
  const shapes: DemoCounty['shapes'] = {};
  for (const [feed, w] of Object.entries(written) as [FeedId, { path: string } & FileShape][]) {
    const { path, ...shape } = w;
    files[feed] = path;
    shapes[feed] = shape;
  }
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
  const regions = regionRows();
  await writeFile(regionsFile, `${regions.map((r) => r.join(',')).join('\r\n')}\r\n`);
  const [inCounty, outside] = [true, false].map((inside) =>
    regions.slice(1).filter(([code]) => code!.startsWith(COUNTY.code) === inside),
  ) as [string[][], string[][]];
  const atLevel = (rows: string[][], ...levels: string[]) =>
    rows.filter((r) => levels.includes(r[2]!)).length;
  const above = atLevel(outside, '省', '市');
  const regionCounts = {
    county: atLevel(inCounty, '县'),
    township: atLevel(inCounty, '乡', '镇'),
    village: atLevel(inCounty, '村'),
    above,
    otherCounties: outside.length - above,
  };
  return {
    dir: opts.dir,
    countyCode: COUNTY.code,
    files,
    shapes,
    truthFile,
    regionsFile,
    regionRows: regionCounts,
    truth,
  };
}
