import { defineFeed } from '../../schemas/feed.ts';
import { IDENTITY_HINTS, personFields } from './identity-hints.ts';

/** 基本医疗保险参保登记 from the medical insurance bureau, one snapshot file per insurance year. */
export const insurance = defineFeed({
  id: 'insurance',
  title: '基本医疗保险参保名册',
  department: '医保局',
  mode: 'snapshot',
  fields: {
    ...personFields({ name: ['姓名', '参保人姓名'], id: ['公民身份号码', '社会保障号码', '社会保障卡号'] }),
    scheme: {
      type: {
        kind: 'enum',
        values: {
          resident: ['城乡居民', '城乡居民基本医疗保险', '居民医保', '城乡居民医保'],
          employee: ['职工', '城镇职工', '职工基本医疗保险', '职工医保'],
        },
      },
      aliases: ['险种', '险种类型', '参保险种'],
      required: true,
      classification: '个人信息',
    },
    year: {
      type: { kind: 'year' },
      aliases: ['参保年度', '年度', '参保年份'],
      required: true,
      classification: '个人信息',
    },
    status: {
      type: {
        kind: 'enum',
        values: {
          active: ['正常参保', '参保缴费', '正常'],
          suspended: ['暂停', '暂停参保', '中断'],
          terminated: ['终止', '终止参保', '注销'],
        },
      },
      aliases: ['参保状态', '人员参保状态'],
      required: true,
      classification: '个人信息',
    },
    // A 资助类别 names the assistance or monitoring status that pays the premium: sensitive. The pooling area is
    // the county's or city's, the same for most of the file: general.
    subsidy_category: {
      type: { kind: 'text' },
      aliases: ['资助类别', '资助参保类别', '医疗救助类别'],
      classification: '敏感个人信息',
    },
    place: { type: { kind: 'text' }, aliases: ['参保地', '参保地区', '参保统筹区'], classification: '一般' },
    ...IDENTITY_HINTS,
  },
  key: ['id_number', 'year', 'scheme'],
  order: [],
  scope: ['year'],
  identity: { id: 'id_number', name: 'name', birthDate: 'birth_date', village: 'home_village' },
});
