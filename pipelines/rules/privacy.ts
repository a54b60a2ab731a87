/**
 * Privacy by law, built in (issue 27): what every rule's record of processing shares, and the record as it is
 * shown — `ruralhub privacy rules` and docs/privacy.md. What a record says once is not said again here: the
 * feeds come from `requires`/`uses`, who receives what from `disclosed` and `owner`/`owners`, and the grade is
 * computed from the classification of the fields read (就高从严), never declared.
 */
import { type DataGrade, highestGrade } from '../../schemas/feed.ts';
import type { Department } from '../../schemas/vocab.ts';
import type { MinorsScope, Rule } from './rule.ts';

/**
 * The legal basis of every cross-match of the catalog: the bureau and the departments process these data to
 * perform their statutory duties, not by consent (PIPL Art. 13(1)(3), and its Art. 13 second paragraph: no
 * consent is needed then); the data are sensitive, so Art. 28's conditions hold; and a state organ stays within
 * what its duty needs (Art. 34).
 */
export const STATUTORY_DUTY_BASIS =
  '《中华人民共和国个人信息保护法》第十三条第一款第三项（为履行法定职责所必需）；第二十八条第二款（敏感个人信息：具有特定的目的和充分的必要性，并采取严格保护措施）；第三十四条（国家机关在履行法定职责所必需的范围和限度内处理）';

/**
 * How long a closed finding is kept (PIPL Arts. 19, 47: the shortest time the purpose needs). Three years: the
 * year a closed finding suppresses its subject (`suppress_days`, 365 by default), and the annual reports and
 * reviews that ask afterwards what was found and fixed. A county whose archives rules ask otherwise changes it
 * here, for the rules it concerns.
 */
export const CLOSED_FINDING_YEARS = 3;

const MINORS_LABEL: Readonly<Record<MinorsScope, string>> = {
  targeted: '是（以未成年人为对象）',
  included: '是（含未成年人）',
  none: '否',
};

/** One field read, with its Chinese label and grade. */
export interface FieldRead {
  field: string;
  label: string;
  grade: DataGrade;
}

/** A rule's record of processing as it is shown: declared parts, and what follows from the declarations. */
export interface ProcessingView {
  id: string;
  name: string;
  duty: string;
  legalBasis: string;
  /** Each feed read, in the order of requires then uses, with the fields its queries read. */
  inputs: { feed: string; title: string; department: Department; fields: FieldRead[] }[];
  /** The columns of its list (Chinese headers), in order. */
  disclosed: string[];
  recipients: Department[];
  retentionYears: number;
  retention: string;
  /** The highest grade of the fields it reads (就高从严): its findings' grade too. */
  grade: DataGrade;
  minors: MinorsScope;
  minorsLabel: string;
}

/** The record of processing of a rule, with its grade computed. */
export function describeProcessing(rule: Rule): ProcessingView {
  const p = rule.processing;
  const order = [...rule.requires, ...(rule.uses ?? [])];
  const reads = [...p.reads].sort((a, b) => order.indexOf(a.feed.id) - order.indexOf(b.feed.id));
  const inputs = reads.map((r) => ({
    feed: r.feed.id,
    title: r.feed.title,
    department: r.feed.department,
    fields: r.fields.map((field) => {
      const spec = r.feed.fields[field]!; // checked by checkProcessing
      return { field, label: spec.label ?? spec.aliases[0] ?? field, grade: spec.classification };
    }),
  }));
  return {
    id: rule.id,
    name: rule.name,
    duty: p.duty,
    legalBasis: p.legalBasis,
    inputs,
    disclosed: rule.disclosed.map((d) => d.label),
    recipients: [...(rule.owners ?? [rule.owner])],
    retentionYears: p.retentionYears,
    retention: `结案后保存${p.retentionYears}年`,
    grade: highestGrade(inputs.flatMap((i) => i.fields.map((f) => f.grade))),
    minors: p.minors,
    minorsLabel: MINORS_LABEL[p.minors],
  };
}
