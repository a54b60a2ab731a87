import { defineFeed } from '../../schemas/feed.ts';
import { HOUSEHOLD_HEAD, IDENTITY_HINTS } from './identity-hints.ts';

/** 农村饮水安全 from the water resources bureau; one row per household head. */
export const water = defineFeed({
  id: 'water',
  title: '农村饮水安全台账',
  department: '水利局',
  mode: 'snapshot',
  fields: {
    ...HOUSEHOLD_HEAD,
    village: { type: { kind: 'text' }, aliases: ['村', '行政村', '所属村'], classification: '个人信息' },
    water_safe: {
      type: { kind: 'boolean' },
      aliases: ['饮水是否安全', '是否饮水安全', '饮水安全'],
      required: true,
      classification: '个人信息',
    },
    problem_type: { type: { kind: 'text' }, aliases: ['问题类型', '存在问题'], classification: '个人信息' },
    birth_date: IDENTITY_HINTS.birth_date,
  },
  key: ['head_id_number'],
  order: [],
  identity: { id: 'head_id_number', name: 'head_name', birthDate: 'birth_date', village: 'village' },
});
