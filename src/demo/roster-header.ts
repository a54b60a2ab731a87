/** The roster's header as the national monitoring system (防返贫监测) exports it, column by column. */
export const ROSTER_HEADER: readonly string[] = [
  '县',
  '乡镇',
  '村',
  '行政区划代码',
  '户编号',
  '姓名',
  '证件号码',
  '性别',
  '与户主关系',
  '户类型',
  '监测对象类别',
  '风险类型',
  '是否风险消除',
  '识别时间',
  '风险消除时间',
  '劳动技能',
  '在校生状况',
  '家庭年人均纯收入',
  '联系电话',
];

/** The columns only monitoring needs, which a roster-shaped file for loading at volume leaves out. */
export const MONITORING_DETAILS: ReadonlySet<string> = new Set([
  '行政区划代码',
  '监测对象类别',
  '风险类型',
  '是否风险消除',
  '风险消除时间',
  '在校生状况',
]);
