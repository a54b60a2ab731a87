import { defineFeed } from '../../schemas/feed.ts';
import { IDENTITY_HINTS, personFields } from './identity-hints.ts';

/** 就业和培训 registrations from the human resources bureau; incremental by registration date. */
export const employment = defineFeed({
  id: 'employment',
  title: '就业帮扶和技能培训台账',
  department: '人社局',
  mode: 'incremental',
  fields: {
    ...personFields({ name: ['姓名'], id: ['身份证号'] }),
    employment_status: {
      type: {
        kind: 'enum',
        values: { employed: ['已就业', '就业', '在岗'], unemployed: ['未就业', '失业', '待业'] },
      },
      aliases: ['就业状态'],
      classification: '个人信息',
    },
    employment_form: {
      type: {
        kind: 'enum',
        values: {
          in_province: ['省内务工', '省内就业', '县外省内务工'],
          out_of_province: ['省外务工', '省外就业'],
          public_welfare: ['公益性岗位', '公益岗位'],
          flexible: ['灵活就业'],
          local: ['县内务工', '就地就近就业', '本地务工'],
        },
      },
      aliases: ['就业形式', '务工形式', '就业方式'],
      classification: '个人信息',
    },
    workplace: {
      type: { kind: 'text' },
      aliases: ['就业地', '务工地点', '就业地点'],
      classification: '个人信息',
    },
    monthly_income: {
      type: { kind: 'money' },
      aliases: ['月收入', '月工资', '月均收入(元)'],
      classification: '敏感个人信息',
    },
    registered_on: {
      type: { kind: 'date' },
      aliases: ['登记日期', '登记时间'],
      required: true,
      classification: '个人信息',
    },
    training_program: {
      type: { kind: 'text' },
      aliases: ['培训项目', '培训工种'],
      classification: '个人信息',
    },
    training_ended_on: {
      type: { kind: 'date' },
      aliases: ['培训结束日期', '结业日期'],
      classification: '个人信息',
    },
    ...IDENTITY_HINTS,
  },
  key: ['id_number', 'registered_on'],
  // Rules join employment by person.
  indexes: { person: ['id_number'] },
  order: [],
  cursor: 'registered_on',
  identity: { id: 'id_number', name: 'name', birthDate: 'birth_date', village: 'home_village' },
});
