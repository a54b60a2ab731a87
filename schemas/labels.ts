/**
 * The Chinese a person reads for every closed vocabulary the system shows, beside the vocabularies of vocab.ts
 * they label. Codes stay the machine's words (database, API fields, config, CLI arguments); a clerk reads these.
 * Each map is a Record over its vocabulary's type, so a value added to a vocabulary without its label does not
 * compile.
 *
 * Two vocabularies live above this floor — the API roles (src/http/tokens.ts) and the feed health verdicts
 * (src/scheduler/status.ts) — so their maps are keyed here by the same words and bound to those types where they
 * are used (src/http/console/labels.ts), which makes a missing label a compile error there too.
 */
import {
  CLOSE_REASONS,
  type CloseReason,
  ERROR_KINDS,
  type ErrorKind,
  FEEDBACK_LABELS,
  FINDING_STATE_LABELS,
  FINDING_STATES,
  type FindingState,
  ID_LINKS,
  type IdLink,
  PROBLEM_CODES,
  type ProblemCode,
  REGION_LEVELS,
  REVIEW_STATUSES,
  type RegionLevel,
  type ReviewStatus,
  RUN_KINDS,
  RUN_STATUSES,
  type RunKind,
  type RunStatus,
  SLOT_STATUSES,
  type SlotStatus,
  SUBJECT_KINDS,
  type SubjectKind,
  WRITE_MODES,
  type WriteMode,
} from './vocab.ts';

// Finding states and feedback answers were labelled in vocab.ts first (the lists use them); one map each.
export { FEEDBACK_LABELS, FINDING_STATE_LABELS };

/** The findings filter's words beyond one state: `not_closed` (the default) and `all`. */
export const FINDING_STATE_FILTER_LABELS = {
  not_closed: '未销号',
  all: '全部',
  ...FINDING_STATE_LABELS,
} as const satisfies Record<'not_closed' | 'all' | FindingState, string>;

export const CLOSE_REASON_LABELS: Readonly<Record<CloseReason, string>> = {
  data: '数据显示已解决',
  review: '复核销号',
};

export const SUBJECT_KIND_LABELS: Readonly<Record<SubjectKind, string>> = {
  person: '个人',
  household: '家庭户',
  record: '单条记录',
};

export const RUN_KIND_LABELS: Readonly<Record<RunKind, string>> = {
  import: '导入',
  match: '比对',
  export: '导出清单',
};

export const RUN_STATUS_LABELS: Readonly<Record<RunStatus, string>> = {
  running: '运行中',
  succeeded: '成功',
  noop: '无变化',
  failed: '失败',
  held: '暂缓待确认',
  skipped: '已跳过',
};

export const SLOT_STATUS_LABELS: Readonly<Record<SlotStatus, string>> = {
  running: '运行中',
  succeeded: '成功',
  retry: '待重试',
  failed: '失败',
  held: '暂缓',
  skipped: '已跳过',
};

export const WRITE_MODE_LABELS: Readonly<Record<WriteMode, string>> = {
  snapshot: '全量',
  incremental: '增量',
};

/** How a record came to be stored under a person's ID when its own was missing or invalid. */
export const ID_LINK_LABELS: Readonly<Record<IdLink, string>> = {
  unique_candidate: '按姓名、出生日期和村自动关联',
  operator: '操作员人工关联',
};

export const REVIEW_STATUS_LABELS: Readonly<Record<ReviewStatus, string>> = {
  open: '待处理',
  linked: '已关联',
  dismissed: '已驳回',
};

export const REGION_LEVEL_LABELS: Readonly<Record<RegionLevel, string>> = {
  county: '县',
  township: '乡镇',
  village: '村',
};

export const ERROR_KIND_LABELS: Readonly<Record<ErrorKind, string>> = {
  config: '配置错误',
  transient: '暂时故障',
  data: '数据错误',
  terminal: '错误',
};

/** Why a value was quarantined. */
export const PROBLEM_LABELS: Readonly<Record<ProblemCode, string>> = {
  id_missing: '身份证号缺失',
  id_sci_notation: '身份证号被显示为科学计数法',
  id_bad_format: '身份证号位数或字符有误',
  id_bad_region: '身份证号地区码有误',
  id_bad_checksum: '身份证号校验位有误',
  id_bad_birth_date: '身份证号出生日期有误',
  id_future_birth_date: '身份证号出生日期晚于今天',
  name_missing: '姓名缺失',
  date_unparseable: '日期无法识别',
  date_ambiguous: '日期有歧义',
  date_missing: '日期缺失',
  money_unparseable: '金额无法识别',
  money_out_of_range: '金额超出范围',
  number_unparseable: '数字无法识别',
  value_not_in_vocabulary: '取值不在规定范围内',
  value_missing: '必填值缺失',
  region_unknown: '行政区划不存在',
  region_ambiguous: '行政区划名称重复',
  ragged_row: '列数多于表头',
  text_damaged: '文字编码损坏',
};

/** API roles (src/http/tokens.ts API_ROLES), as the header names the signed-in reader. */
export const ROLE_LABELS = {
  bureau: '乡村振兴局',
  operator: '运维人员',
  department: '部门',
} as const;

/** Feed health verdicts (src/scheduler/status.ts FEED_VERDICTS). */
export const FEED_VERDICT_LABELS = {
  ok: '正常',
  stale: '数据过期',
  failing: '导入失败',
  held: '暂缓待确认',
  nothing_kept: '上次导入全部被隔离',
  missing: '从未导入',
  not_configured: '未启用',
} as const;

/** Yes/no values of a feed's boolean fields. */
export const BOOLEAN_LABELS = { true: '是', false: '否' } as const;

/**
 * The code a reader meant by `text`: a code itself, or its Chinese label (surrounding white space ignored).
 * Undefined when it is neither, so the caller can say so instead of quietly matching nothing.
 *
 * @example codeOf(FINDING_STATE_FILTER_LABELS, '已派发') // 'sent'
 */
export function codeOf<K extends string>(labels: Readonly<Record<K, string>>, text: string): K | undefined {
  const t = text.trim();
  const codes = Object.keys(labels) as K[];
  return codes.find((c) => c === t) ?? codes.find((c) => labels[c] === t);
}

/** Every vocabulary labelled here, by name: what a test checks the screens against (their codes must not show). */
export const LABELLED_VOCABULARIES = {
  finding_state: [...FINDING_STATES],
  close_reason: [...CLOSE_REASONS],
  subject_kind: [...SUBJECT_KINDS],
  run_kind: [...RUN_KINDS],
  run_status: [...RUN_STATUSES],
  slot_status: [...SLOT_STATUSES],
  write_mode: [...WRITE_MODES],
  id_link: [...ID_LINKS],
  review_status: [...REVIEW_STATUSES],
  region_level: [...REGION_LEVELS],
  error_kind: [...ERROR_KINDS],
  problem: [...PROBLEM_CODES],
  role: Object.keys(ROLE_LABELS),
  feed_verdict: Object.keys(FEED_VERDICT_LABELS),
} as const satisfies Record<string, readonly string[]>;
