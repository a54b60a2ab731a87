import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FEED_IDS, FEEDS } from '../../pipelines/feeds/index.ts';
import { RULE_IDS, RULES } from '../../pipelines/rules/index.ts';
import type { Rule } from '../../pipelines/rules/rule.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DOCS = join(ROOT, 'docs');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The text under `## <start>…` up to the next `## ` heading. */
function section(text: string, heading: RegExp): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => heading.test(l));
  if (at < 0) return '';
  const end = lines.findIndex((l, i) => i > at && l.startsWith('## '));
  return lines.slice(at, end < 0 ? undefined : end).join('\n');
}

/** Markdown wraps long lines: compare as one line. */
const flat = (s: string) => s.replace(/\s*\n\s*/g, ' ');

/** Cells of the table rows of `text` whose first cell is a code span. */
function tableRows(text: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^\|\s*`([a-z_]+)`\s*\|/.exec(line);
    if (!m) continue;
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    rows.set(m[1]!, cells);
  }
  return rows;
}

/** The line of `text` beginning with `prefix`, joined with its wrapped continuation lines. */
function item(text: string, prefix: string): string | undefined {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith(prefix));
  if (at < 0) return undefined;
  const out = [lines[at]!];
  for (const l of lines.slice(at + 1)) {
    if (!/^\s{2,}\S/.test(l)) break;
    out.push(l.trim());
  }
  return out.join(' ');
}

/** GitHub's anchor of a heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

const code = (ids: readonly string[]) => ids.map((f) => `\`${f}\``).join(', ');

describe('docs/rules.md', () => {
  const rules = read('docs/rules.md');

  it('has a section for every rule the code declares, and for no other', () => {
    expect(Object.values(RULES).map((r) => r.id)).toEqual([...RULE_IDS]);
    const documented = [...rules.matchAll(/^## (R[0-9]+) /gm)].map((m) => m[1]);
    expect(documented).toEqual([...RULE_IDS]);
  });

  describe.each(RULE_IDS.map((id): [string, Rule] => [id, RULES[id]]))('%s', (id, rule) => {
    const s = section(rules, new RegExp(`^## ${id} `));

    it('names it, its owner department(s), subject and default deadline as the code does', () => {
      expect(s.split('\n')[0]).toBe(`## ${id} ${rule.name}`);
      expect(s).toContain(`_${rule.nameEn}_`);
      expect(item(s, '- **Owner**: ')).toMatch(
        new RegExp(`^- \\*\\*Owner\\*\\*: ${(rule.owners ?? [rule.owner]).join(' · ')}( \\(|$)`),
      );
      expect(item(s, '- **Subject**: ')?.startsWith(`- **Subject**: ${rule.subjectKind}`)).toBe(true);
      expect(item(s, '- **Default deadline**: ')).toBe(`- **Default deadline**: ${rule.deadlineDays} days`);
    });

    it('lists the feeds it requires and reads', () => {
      const uses = rule.uses?.length ? `; also reads ${code(rule.uses)}` : '';
      expect(item(s, '- **Requires**: ')).toBe(`- **Requires**: ${code(rule.requires)}${uses}`);
    });

    it('states its population, condition and reference date', () => {
      for (const what of ['Population', 'Condition', 'Reference date']) {
        expect(flat(s), what).toMatch(new RegExp(`- \\*\\*${what}\\*\\*[^:]*: \\S`));
      }
    });

    it('lists exactly the fields its list discloses, in order', () => {
      expect(item(s, '- **Disclosed fields**: ')).toBe(
        `- **Disclosed fields**: ${rule.disclosed.map((d) => d.label).join(', ')}`,
      );
    });

    it('documents every parameter with its default, and no other', () => {
      const shape = (rule.params as unknown as { shape?: Record<string, unknown> }).shape ?? {};
      const defaults = rule.params.parse({}) as Record<string, unknown>;
      const rows = tableRows(s);
      expect([...rows.keys()]).toEqual(Object.keys(shape));
      if (!rows.size) expect(s).toContain('No parameters.');
      for (const [key, cells] of rows) {
        const d = defaults[key];
        expect(cells[1], `${id} ${key}`).toBe(d === undefined ? '—' : `\`${JSON.stringify(d)}\``);
        expect(cells[2], `${id} ${key} meaning`).not.toBe('');
      }
    });
  });
});

describe('docs/domain.md', () => {
  const domain = read('docs/domain.md');
  const feeds = tableRows(section(domain, /^## 4\. /));
  /** Identity hints every feed may carry (pipelines/feeds/identity-hints.ts): described once, not per row. */
  const HINTS = new Set(['birth_date', 'home_village']);

  it('has a row for every feed the code declares, and for no other', () => {
    expect(Object.keys(FEEDS)).toEqual([...FEED_IDS]);
    expect([...feeds.keys()]).toEqual([...FEED_IDS]);
  });

  it.each([...FEED_IDS])('%s: its title, department, mode, key and headers as the code has them', (id) => {
    const f = FEEDS[id];
    const [, title, department, mode, key, headers] = feeds.get(id) ?? [];
    expect(title).toBe(f.title);
    expect(department).toBe(f.department);
    expect(mode?.startsWith(f.mode)).toBe(true);
    if (f.cursor) expect(mode).toContain(`cursor ${f.fields[f.cursor]!.aliases[0]}`);
    expect(key).toBe(f.key.join(' + '));
    const expected = Object.entries(f.fields)
      .filter(([name]) => !HINTS.has(name))
      .map(([, spec]) => `${spec.aliases[0]}${spec.required ? '*' : ''}`);
    expect(headers?.replaceAll('\\*', '*').split(', ')).toEqual(expected);
  });

  it('keeps the section numbers the code cites as DOMAIN §n', () => {
    for (const n of ['1', '2', '3', '4', '5', '5.1', '5.2', '5.3', '5.4', '6', '7', '8', '9', '10']) {
      expect(domain, `§${n}`).toMatch(new RegExp(`^#{2,3} ${n.replace('.', '\\.')}\\.? `, 'm'));
    }
  });
});

describe('the documentation', () => {
  const pages = readdirSync(DOCS)
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);

  it('is linked from the index and the README', () => {
    const index = read('docs/README.md');
    for (const page of pages.filter((p) => p !== 'docs/README.md')) {
      expect(index).toContain(`](${page.slice('docs/'.length)})`);
    }
    expect(read('README.md')).toContain('](docs/');
  });

  it.each([...pages, 'README.md'])(
    '%s: every relative link leads to a file and heading that exist',
    (page) => {
      for (const [, target] of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [path, anchor] = target!.split('#');
        const file = path ? join(ROOT, dirname(page), path) : join(ROOT, page);
        expect(existsSync(file), `${page} → ${target}`).toBe(true);
        if (anchor && statSync(file).isFile()) {
          const headings = [...readFileSync(file, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!));
          expect(headings, `${page} → ${target}`).toContain(anchor);
        }
      }
    },
  );

  it('refers to nothing outside the repository', () => {
    const outside = ['..', 'shared'].join('/');
    const files = [...pages, 'README.md', 'package.json', '.ci/run'];
    for (const dir of [
      'bin',
      'bench',
      'config',
      'connectors',
      'pipelines',
      'schemas',
      'scripts',
      'src',
      'test',
    ]) {
      const walk = (d: string): string[] =>
        readdirSync(join(ROOT, d), { withFileTypes: true }).flatMap((e) =>
          e.isDirectory()
            ? walk(`${d}/${e.name}`)
            : /\.(ts|js|mjs|sh|md|ya?ml|json)$/.test(e.name)
              ? [`${d}/${e.name}`]
              : [],
        );
      files.push(...walk(dir));
    }
    // The one exception, by name: the cluster tests (npm run test:cluster) and the cluster benchmark start a local Citus cluster
    // with the build and start scripts of the workplace's checkout beside the project — a test's server, as the
    // embedded one is, never something the project needs at run time.
    const allowed = new Set(['test/cluster/citus.ts']);
    const referring = files.filter((f) => !allowed.has(f) && read(f).includes(outside));
    expect(referring).toEqual([]);
  });
});
