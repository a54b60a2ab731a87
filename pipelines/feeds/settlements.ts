import { defineFeed } from '../../schemas/feed.ts';
import { IDENTITY_HINTS, personFields } from './identity-hints.ts';

/** 医疗结算 (medical bill settlements) from the medical insurance bureau; incremental by settlement date. */
export const settlements = defineFeed({
  id: 'settlements',
  title: '医疗费用结算明细',
  department: '医保局',
  mode: 'incremental',
  fields: {
    settlement_id: {
      type: { kind: 'text' },
      aliases: ['结算流水号', '结算ID', '结算编号', '就诊流水号'],
      required: true,
      classification: '敏感个人信息',
    },
    ...personFields({ name: ['姓名', '患者姓名', '参保人姓名'], id: ['公民身份号码', '患者身份证号'] }),
    visit_type: {
      type: { kind: 'text' },
      aliases: ['就诊类型', '医疗类别', '就医类型'],
      classification: '敏感个人信息',
    },
    admitted_on: {
      type: { kind: 'date' },
      aliases: ['入院日期', '入院时间'],
      classification: '敏感个人信息',
    },
    discharged_on: {
      type: { kind: 'date' },
      aliases: ['出院日期', '出院时间'],
      classification: '敏感个人信息',
    },
    settled_on: {
      type: { kind: 'date' },
      aliases: ['结算日期', '结算时间'],
      required: true,
      classification: '敏感个人信息',
    },
    total_cost: {
      type: { kind: 'money' },
      aliases: ['医疗总费用', '总费用', '医疗费用总额'],
      classification: '敏感个人信息',
    },
    basic_paid: {
      type: { kind: 'money' },
      aliases: ['基本医保支付', '统筹支付', '基本医疗保险支付'],
      classification: '敏感个人信息',
    },
    critical_paid: {
      type: { kind: 'money' },
      aliases: ['大病保险支付', '大病支付'],
      classification: '敏感个人信息',
    },
    aid_paid: {
      type: { kind: 'money' },
      aliases: ['医疗救助支付', '救助支付'],
      classification: '敏感个人信息',
    },
    out_of_pocket: {
      type: { kind: 'money' },
      aliases: ['个人自付', '个人负担', '个人自付金额'],
      required: true,
      classification: '敏感个人信息',
    },
    ...IDENTITY_HINTS,
  },
  key: ['settlement_id'],
  // Rules join settlements by person and date; the key does not start with the ID.
  indexes: { person: ['id_number', 'settled_on'] },
  order: [{ field: 'settled_on', direction: 'desc' }],
  cursor: 'settled_on',
  identity: { id: 'id_number', name: 'name', birthDate: 'birth_date', village: 'home_village' },
});
