/**
 * The words a person reads on the console (and the API's display fields): the labels of schemas/labels.ts bound
 * to the types of the vocabularies that live above the schemas floor (roles, feed verdicts), and the Chinese of
 * each feed's fields and values, taken from the feed declarations (pipelines/feeds: a field's `label`, else its
 * first header alias; an enum value's first spelling) with the few overrides below where that first word would
 * mislead a reader.
 */
import { type DECLARED_FEEDS, FEEDS, type FeedId, isFeedId } from '../../../pipelines/feeds/index.ts';
import type { FieldSpec } from '../../../schemas/feed.ts';
import {
  BOOLEAN_LABELS,
  FEED_VERDICT_LABELS,
  FINDING_STATE_FILTER_LABELS,
  ID_LINK_LABELS,
  ROLE_LABELS,
  RUN_KIND_LABELS,
  RUN_STATUS_LABELS,
} from '../../../schemas/labels.ts';
import type { FeedVerdict } from '../../scheduler/status.ts';
import type { ApiRole, Principal } from '../tokens.ts';

// Bound to the types they label: a role or verdict added without its label is a compile error here.
const ROLES: Readonly<Record<ApiRole, string>> = ROLE_LABELS;
const VERDICTS: Readonly<Record<FeedVerdict, string>> = FEED_VERDICT_LABELS;

/** Looks a code up in a label map; a code the map does not know (an older row, an extension) shows as itself. */
const lookup = (labels: Readonly<Record<string, string>>, code: string | null | undefined): string =>
  code == null ? '' : (labels[code] ?? code);

export const roleLabel = (role: ApiRole): string => ROLES[role];
/** Who is signed in, as the header shows it: 乡村振兴局, 运维人员, or the department's own name. */
export const principalLabel = (who: Principal): string =>
  who.role === 'department' && who.department ? who.department : roleLabel(who.role);
export const verdictLabel = (v: FeedVerdict): string => VERDICTS[v];
export const runStatusLabel = (s: string): string => lookup(RUN_STATUS_LABELS, s);
export const runKindLabel = (k: string): string => lookup(RUN_KIND_LABELS, k);
export const findingStateLabel = (s: string): string => lookup(FINDING_STATE_FILTER_LABELS, s);

/** A feed as departments name it (its title); a feed id the registry does not know as itself. */
export const feedTitle = (feed: string | null | undefined): string =>
  feed == null ? '' : isFeedId(feed) ? FEEDS[feed].title : feed;

/** Fields whose first header alias is not what a reader should see them called. */
const FIELD_LABELS: Readonly<Record<string, string>> = {
  // 残疾人证号, 证件号码, 公民身份号码 …: every feed's ID column holds the resident ID once loaded.
  id_number: '身份证号',
  head_id_number: '户主身份证号',
};

/**
 * Enum values whose first spelling names only part of what the value covers, by feed and field. The keys are
 * checked against the declarations: a field or value that is not declared does not compile.
 */
type EnumValuesOf<S> = S extends { type: { kind: 'enum'; values: infer V } } ? keyof V & string : never;
/** The declarations with their literal field names and values (FEEDS widens them to any feed's shape). */
type Declared = typeof DECLARED_FEEDS;
type EnumOverrides = {
  readonly [F in FeedId]?: {
    readonly [K in keyof Declared[F]['fields']]?: Readonly<
      Partial<Record<EnumValuesOf<Declared[F]['fields'][K]>, string>>
    >;
  };
};
const ENUM_LABELS: EnumOverrides = {
  roster: { labor_capacity: { able: '普通或技能劳动力', weak: '弱劳动力或半劳动力' } },
  housing: { safety_grade: { A: 'A级', B: 'B级', C: 'C级', D: 'D级' } },
};

const specOf = (feed: string, field: string): FieldSpec | undefined =>
  isFeedId(feed) ? (FEEDS[feed].fields as Readonly<Record<string, FieldSpec>>)[field] : undefined;

/** A feed field's Chinese name; the field's code when it is no declared field of the feed. */
export function fieldLabel(feed: string, field: string): string {
  const spec = specOf(feed, field);
  return FIELD_LABELS[field] ?? spec?.label ?? spec?.aliases[0] ?? field;
}

/** A stored value of a feed field in Chinese: enum values by their label, booleans 是/否, the rest as they are. */
export function fieldValue(feed: string, field: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  const spec = specOf(feed, field);
  if (spec?.type.kind === 'boolean' && typeof value === 'boolean') return BOOLEAN_LABELS[`${value}`];
  if (spec?.type.kind === 'money') return `${value} 元`;
  if (spec?.type.kind === 'enum' && isFeedId(feed)) {
    const code = String(value);
    const overrides = ENUM_LABELS[feed] as
      | Readonly<Record<string, Readonly<Record<string, string>> | undefined>>
      | undefined;
    return overrides?.[field]?.[code] ?? spec.type.values[code]?.[0] ?? code;
  }
  return String(value);
}

/** How a record got the ID it is stored under ('' for a record loaded under its own). */
export const idLinkLabel = (v: string | null | undefined): string => lookup(ID_LINK_LABELS, v);
