/**
 * docs/feeds.md, written from the one definition of each feed (pipelines/feeds/): every header spelling a column
 * is found under, every closed vocabulary with the spellings of each value, the yes/no words and the reasons a
 * value is quarantined. test/unit/docs-feeds.test.ts fails when the page differs from what this renders; after a
 * feed changes, write it again with
 *
 *   npx tsx test/support/feeds-doc.ts > docs/feeds.md
 */
import { pathToFileURL } from 'node:url';
import { displayWidth } from '../../core/chars.ts';
import { FEED_IDS, FEEDS } from '../../pipelines/feeds/index.ts';
import type { FieldSpec, FieldType } from '../../schemas/feed.ts';
import { PROBLEM_LABELS } from '../../schemas/labels.ts';
import { PROBLEM_CODES, type ProblemCode } from '../../schemas/vocabulary.ts';
import { explainProblem } from '../../src/normalize/explain.ts';
import { BOOLEAN_FALSE, BOOLEAN_TRUE } from '../../src/normalize/patterns.ts';

const KIND: Readonly<Record<FieldType['kind'], string>> = {
  id_number: 'ID number',
  name: 'name',
  text: 'text',
  date: 'date',
  money: 'amount (yuan)',
  integer: 'integer',
  year: 'year',
  boolean: 'yes/no',
  enum: 'closed vocabulary',
};

/** A Markdown table, its columns padded to the widest cell as a terminal draws it (汉字 two columns). */
function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = head.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c + ' '.repeat(widths[i]! - displayWidth(c))).join(' | ')} |`;
  return [line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)];
}

const code = (s: string) => `\`${s}\``;
/** A header or value spelling as Markdown shows it literally: `*` and `|` escaped. */
const literal = (s: string) => s.replace(/([*|\\_])/g, '\\$1');

function feedSection(id: (typeof FEED_IDS)[number]): string[] {
  const f = FEEDS[id];
  const fields = Object.entries(f.fields) as [string, FieldSpec][];
  const out = [
    `## ${code(id)} ${f.title}`,
    '',
    `${f.department}; ${f.mode}${f.scope ? ` per ${f.scope.map((s) => f.fields[s]!.aliases[0]).join(' + ')}` : ''}` +
      `${f.cursor ? ` (cursor ${f.fields[f.cursor]!.aliases[0]})` : ''}; key ${f.key.map(code).join(' + ')}.`,
    '',
    ...table(
      ['field', 'kind', 'required', 'header spellings found'],
      fields.map(([name, spec]) => [
        code(name),
        KIND[spec.type.kind],
        spec.required ? 'yes' : '',
        spec.aliases.map(literal).join(', '),
      ]),
    ),
  ];
  for (const [name, spec] of fields) {
    if (spec.type.kind !== 'enum') continue;
    out.push(
      '',
      `**${literal(spec.label ?? spec.aliases[0]!)}** (${code(name)}): the values, and the spellings each is read from`,
      '',
      ...table(
        ['value', 'spellings accepted'],
        Object.entries(spec.type.values).map(([value, spellings]) => [
          code(value),
          spellings.map(literal).join(', '),
        ]),
      ),
    );
  }
  return out;
}

/**
 * A value each normalizer problem is found in, and the field it is in: the page shows what `detail` says of it.
 * Made-up values: no ID here is anyone's (the ones shown are cut short or start with no province).
 */
const EXAMPLES: Readonly<Record<ProblemCode, readonly [raw: string, spec: FieldSpec | undefined]>> = {
  id_missing: ['', FEEDS.roster.fields.id_number],
  id_sci_notation: ['5.20102E+17', FEEDS.roster.fields.id_number],
  id_bad_format: ['5201021980', FEEDS.roster.fields.id_number],
  id_bad_region: ['99…', FEEDS.roster.fields.id_number],
  id_bad_birth_date: ['5201**********0012', FEEDS.roster.fields.id_number],
  id_future_birth_date: ['5201**********0012', FEEDS.roster.fields.id_number],
  id_bad_checksum: ['5201**********0013', FEEDS.roster.fields.id_number],
  name_missing: ['', FEEDS.roster.fields.name],
  date_unparseable: ['2026-02-30', FEEDS.roster.fields.identified_on],
  date_ambiguous: ['05/01/2023', FEEDS.roster.fields.identified_on],
  date_missing: ['', FEEDS.deaths.fields.died_on],
  money_unparseable: ['约300', FEEDS.settlements.fields.out_of_pocket],
  money_out_of_range: ['1234567890123', FEEDS.settlements.fields.out_of_pocket],
  number_unparseable: ['明年', FEEDS.insurance.fields.year],
  value_not_in_vocabulary: ['务工', FEEDS.employment.fields.employment_form],
  value_missing: ['', FEEDS.roster.fields.household_type],
  region_unknown: ['新新村', FEEDS.roster.fields.village],
  region_ambiguous: ['新村', FEEDS.roster.fields.village],
  ragged_row: ['(the whole row)', undefined],
  text_damaged: ['松林�', undefined],
};

/** What the reader itself writes for a row it could not read (connectors/csv, connectors/workbook.ts). */
const READER_DETAIL: Partial<Record<ProblemCode, string>> = {
  ragged_row: "expected 6 columns, found 7 (CSV); values beyond the header's 6 columns (workbook)",
};

export function feedsDoc(): string {
  const problems = PROBLEM_CODES.map((p) => {
    const [raw, spec] = EXAMPLES[p];
    return [
      code(p),
      PROBLEM_LABELS[p],
      raw === '' ? '(empty)' : literal(raw),
      explainProblem(p, spec, raw === '' ? null : raw.replace('…', '1226')) ?? READER_DETAIL[p] ?? '',
    ];
  });
  return [
    '# The feeds: columns and values accepted',
    '',
    '<!-- Written by test/support/feeds-doc.ts from pipelines/feeds/; test/unit/docs-feeds.test.ts checks it. -->',
    '',
    'For the people who prepare a department file and those who read `ruralhub quarantine`: for each feed, the',
    'header spellings a column is found under, and for each closed vocabulary the values and every spelling',
    'accepted for them. The feeds themselves — department, mode, key — are described in',
    '[domain.md §4](domain.md#4-the-twelve-feeds); the forms of IDs, dates and amounts in',
    '[§5](domain.md#5-identity-and-normalization).',
    '',
    'A header is compared after removing white space, a leading or trailing required-field marker (`*`, `※`, `★`,',
    '`【必填】`), a trailing colon and a trailing `(必填)`, `(选填)`, `(元)` or `(单位:元)`, in full-width forms too;',
    'when no spelling matches exactly, a trailing note in brackets is ignored (`身份证号(18位)`). A value of a closed',
    'vocabulary is compared without white space, in any letter case. The value in the first column is what the',
    'warehouse stores and the configuration names; a file must use one of the spellings. A county adds its own',
    'spellings in its configuration: headers under `feeds.<feed>.header_aliases.<field>`, values under',
    '`feeds.<feed>.value_aliases.<field>.<value>`.',
    '',
    `A yes/no column reads ${BOOLEAN_TRUE.map(code).join(', ')} as yes`,
    `and ${BOOLEAN_FALSE.map(code).join(', ')} as no.`,
    '',
    ...FEED_IDS.flatMap((id) => [...feedSection(id), '']),
    '## Why a value is quarantined',
    '',
    'The reasons `ruralhub quarantine` gives (its `problem` column; `--reason` takes them), each with the label the',
    'console shows, a value it is found in and what the `detail` column says of that value: the accepted spellings of',
    "the column's vocabulary, the day a date's month does not have. Its `header` column names the column as the file",
    'headed it. An ID is shown masked (first 4 and last 4 characters; of a number in scientific notation, its first 4',
    'digits), and no detail quotes its hidden digits — nor the check character a bad one should have been: it is',
    'computed from ten digits the mask hides, and the usual fault is a mistyped digit before it, not the last one.',
    '',
    ...table(['problem', 'label', 'for example', 'detail'], problems),
    '',
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.stdout.write(feedsDoc());
