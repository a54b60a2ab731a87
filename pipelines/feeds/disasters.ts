import { defineFeed } from '../../schemas/feed.ts';
import { HOUSEHOLD_HEAD, IDENTITY_HINTS } from './identity-hints.ts';

/** 受灾 (disaster-affected households) from emergency management; incremental. */
export const disasters = defineFeed({
  id: 'disasters',
  title: '自然灾害受灾农户台账',
  department: '应急管理局',
  mode: 'incremental',
  fields: {
    ...HOUSEHOLD_HEAD,
    disaster_type: {
      type: { kind: 'text' },
      aliases: ['灾种', '灾害类型', '受灾类型'],
      required: true,
      classification: '个人信息',
    },
    hit_on: {
      type: { kind: 'date' },
      aliases: ['受灾日期', '受灾时间', '灾害发生日期'],
      required: true,
      classification: '个人信息',
    },
    loss: {
      type: { kind: 'money' },
      aliases: ['直接经济损失(元)', '直接经济损失', '经济损失(元)', '损失金额'],
      classification: '敏感个人信息',
    },
    ...IDENTITY_HINTS,
  },
  key: ['head_id_number', 'hit_on', 'disaster_type'],
  order: [],
  cursor: 'hit_on',
  identity: { id: 'head_id_number', name: 'head_name', birthDate: 'birth_date', village: 'home_village' },
});
