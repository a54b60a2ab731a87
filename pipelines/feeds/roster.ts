import { defineFeed } from '../../schemas/feed.ts';
import { personFields, SEX } from './identity-hints.ts';

/**
 * 防返贫监测 roster exported from the national monitoring system: one row per household member of every
 * alleviated (脱贫户) or monitored (监测户) household. It defines the focus population.
 */
export const roster = defineFeed({
  id: 'roster',
  title: '防返贫监测对象名册',
  department: '乡村振兴局',
  mode: 'snapshot',
  fields: {
    county: {
      type: { kind: 'text' },
      aliases: ['县', '县(市、区)', '县市区', '所属县'],
      classification: '一般',
    },
    township: {
      type: { kind: 'text' },
      aliases: ['乡镇', '乡(镇)', '乡镇(街道)', '所属乡镇'],
      classification: '个人信息',
    },
    village: {
      type: { kind: 'text' },
      aliases: ['村', '行政村', '村(社区)', '所属村'],
      classification: '个人信息',
    },
    village_code: {
      type: { kind: 'text' },
      aliases: ['行政区划代码', '村代码', '区划代码'],
      classification: '个人信息',
    },
    household_id: {
      type: { kind: 'text' },
      aliases: ['户编号', '户码', '家庭编号'],
      required: true,
      classification: '个人信息',
    },
    ...personFields({ name: ['姓名', '成员姓名'], id: ['证件号码', '成员证件号码'] }),
    sex: SEX,
    relation: { type: { kind: 'text' }, aliases: ['与户主关系', '与户主的关系'], classification: '个人信息' },
    // Grades: the monitoring fields say a household is poor or at risk (特定身份) and why (illness, disability),
    // labor capacity reflects health, income is the household's finances: sensitive. The county, the same on
    // every row of a county's roster, says nothing about anyone.
    household_type: {
      type: {
        kind: 'enum',
        values: {
          alleviated: ['脱贫户', '脱贫人口', '脱贫不监测户'],
          monitored: ['监测户', '监测对象', '脱贫户(监测对象)', '脱贫监测户'],
        },
      },
      aliases: ['户类型', '户类别', '人口类型'],
      required: true,
      classification: '敏感个人信息',
    },
    monitor_category: {
      type: {
        kind: 'enum',
        values: {
          unstable: ['脱贫不稳定户', '脱贫不稳定'],
          marginal: ['边缘易致贫户', '边缘易致贫'],
          sudden_hardship: ['突发严重困难户', '突发严重困难'],
        },
      },
      aliases: ['监测对象类别', '监测类别'],
      classification: '敏感个人信息',
    },
    risk_type: {
      type: { kind: 'text' },
      aliases: ['风险类型', '致贫返贫风险'],
      classification: '敏感个人信息',
    },
    risk_eliminated: {
      type: { kind: 'boolean' },
      aliases: ['是否风险消除', '风险是否消除'],
      classification: '敏感个人信息',
    },
    identified_on: {
      type: { kind: 'date' },
      aliases: ['识别时间', '识别日期', '纳入监测时间'],
      classification: '敏感个人信息',
    },
    risk_eliminated_on: {
      type: { kind: 'date' },
      aliases: ['风险消除时间', '风险消除日期'],
      classification: '敏感个人信息',
    },
    labor_capacity: {
      type: {
        kind: 'enum',
        values: {
          able: ['普通劳动力', '技能劳动力'],
          weak: ['弱劳动力', '半劳动力', '弱劳动力或半劳动力'],
          lost: ['丧失劳动力'],
          none: ['无劳动力'],
        },
      },
      aliases: ['劳动技能', '劳动能力'],
      classification: '敏感个人信息',
    },
    schooling_status: {
      type: { kind: 'text' },
      aliases: ['在校生状况', '在校生情况'],
      classification: '个人信息',
    },
    income_per_capita: {
      type: { kind: 'money' },
      aliases: ['家庭年人均纯收入', '人均纯收入', '年人均纯收入(元)'],
      classification: '敏感个人信息',
    },
    phone: { type: { kind: 'text' }, aliases: ['联系电话', '电话'], classification: '个人信息' },
  },
  key: ['id_number'],
  // Household rules gather a household's members by 户编号.
  indexes: { household: ['household_id'] },
  order: [{ field: 'identified_on', direction: 'desc' }],
  surrogate: { person: 'id_number', household: 'household_id' },
});
