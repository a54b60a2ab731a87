import { defineFeed } from '../../schemas/feed.ts';
import { IDENTITY_HINTS, personFields } from './identity-hints.ts';

/** 死亡注销 (death deregistrations) from public security; incremental. */
export const deaths = defineFeed({
  id: 'deaths',
  title: '死亡人员户籍注销信息',
  department: '公安局',
  mode: 'incremental',
  fields: {
    ...personFields({ name: ['姓名'], id: ['公民身份号码'] }),
    died_on: {
      type: { kind: 'date' },
      aliases: ['死亡日期', '死亡时间'],
      required: true,
      classification: '个人信息',
    },
    deregistered_on: {
      type: { kind: 'date' },
      aliases: ['注销日期', '注销时间', '户籍注销日期'],
      classification: '个人信息',
    },
    ...IDENTITY_HINTS,
  },
  key: ['id_number'],
  order: [{ field: 'deregistered_on', direction: 'desc' }],
  cursor: 'deregistered_on',
  identity: { id: 'id_number', name: 'name', birthDate: 'birth_date', village: 'home_village' },
});
