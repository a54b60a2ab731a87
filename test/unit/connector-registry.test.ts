/**
 * The connector registry (connectors/registry.ts): a file's kind by its extension, a workbook's by its first
 * bytes; a configured source's kind by its `kind`, or by its shape for configs written before `kind`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FILE_EXTENSIONS,
  FILE_KINDS,
  fileKindOf,
  openSource,
  SOURCE_KINDS,
} from '../../connectors/registry.ts';
import { RuralHubError } from '../../core/errors.ts';
import type { HttpConfig, SourceConfig, SourceKind, SqlConfig } from '../../schemas/sources.ts';
import { tempDir } from '../support/files.ts';

const dir = tempDir('ruralhub-registry-');
const file = (name: string, bytes: Buffer | string) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]);
const COMPOUND = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

describe('file kinds', () => {
  it('name each entry by its connector kind, and list the extensions in registry order', () => {
    for (const [kind, entry] of Object.entries(FILE_KINDS)) expect(entry.connector.kind).toBe(kind);
    // The project's kinds; a contributor's new kind adds its own without touching this test.
    expect(FILE_EXTENSIONS).toEqual(
      expect.arrayContaining(['.csv', '.txt', '.tsv', '.xlsx', '.xlsm', '.xls', '.et']),
    );
    expect(FILE_EXTENSIONS).toEqual(Object.values(FILE_KINDS).flatMap((k) => k.extensions));
  });

  it.each([
    // a workbook's extension: the first bytes decide
    ['package named .xls', 'a.xls', ZIP, 'xlsx'],
    ['compound file named .xlsx', 'b.xlsx', COMPOUND, 'xls'],
    ['HTML table named .xls', 'c.xls', '<html><table><tr><td>姓名</td></tr></table></html>', 'xls'],
    ['XML 2003 with a BOM and blank lines', 'd.XLS', '\uFEFF\r\n  <?xml version="1.0"?><Workbook/>', 'xls'],
    ['tab-separated text named .xls', 'e.xls', '姓名\t身份证号\r\n张三\t1\r\n', 'csv'],
    ['.et package', 'f.et', ZIP, 'xlsx'],
    ['.xlsm package', 'g.xlsm', ZIP, 'xlsx'],
    ['an empty .xlsx keeps its extension', 'h.xlsx', '', 'xlsx'],
    // a text extension: taken as text whatever its bytes
    ['.csv holding a zip', 'i.csv', ZIP, 'csv'],
    ['.txt', 'j.txt', 'a,b\r\n', 'csv'],
    ['.tsv', 'k.TSV', 'a\tb\n', 'csv'],
  ] as const)('%s is read by %s', (_, name, bytes, kind) => {
    const path = file(name, bytes);
    expect(fileKindOf(path).connector.kind).toBe(kind);
    expect(fileKindOf(path).workbook).toBe(kind !== 'csv');
  });

  it("keeps a missing workbook's extension kind (the loader says it is missing)", () => {
    expect(fileKindOf(join(dir, 'missing.xls')).connector.kind).toBe('xls');
  });

  it.each([
    ['notes.pdf', "'.pdf'"],
    ['README', "'(none)'"],
  ])('refuses %s as a config error naming the file types there are', (name, ext) => {
    const path = join(dir, name);
    let err: unknown;
    try {
      fileKindOf(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuralHubError);
    expect((err as RuralHubError).kind).toBe('config');
    expect((err as Error).message).toBe(
      `${path}: unsupported file type ${ext}; expected one of ${FILE_EXTENSIONS.join(', ')}`,
    );
  });
});

describe('source kinds', () => {
  const sql: SqlConfig = { dialect: 'mysql', url_env: 'GA_DB_URL', table: 'death_reg', key: ['id'] };
  const http: HttpConfig = { url: 'https://api.example.cn/v1/deaths?key=SECRET', paging: { kind: 'cursor' } };
  const cases: [string, SourceConfig, SourceKind, string][] = [
    ['sql named', { ...sql, kind: 'sql' }, 'sql', 'mysql:death_reg'],
    ['sql by its dialect (a config written before kind)', sql, 'sql', 'mysql:death_reg'],
    ['http named', { ...http, kind: 'http' }, 'http', 'http:api.example.cn/v1/deaths'],
    ['http by its url (a config written before kind)', http, 'http', 'http:api.example.cn/v1/deaths'],
  ];

  it.each(cases)(
    'open a %s with the connector of its kind, labelled without secrets',
    (_, cfg, kind, label) => {
      const opened = openSource(cfg);
      expect(opened).toMatchObject({ kind, label });
      expect(Object.keys(SOURCE_KINDS)).toContain(kind);
    },
  );
});
