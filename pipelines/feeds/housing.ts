import { defineFeed } from '../../schemas/feed.ts';
import { HOUSEHOLD_HEAD, IDENTITY_HINTS } from './identity-hints.ts';

/** 农村住房安全 (house safety grade and renovation) from the housing bureau; one row per household head. */
export const housing = defineFeed({
  id: 'housing',
  title: '农村住房安全鉴定名册',
  department: '住建局',
  mode: 'snapshot',
  fields: {
    ...HOUSEHOLD_HEAD,
    safety_grade: {
      type: { kind: 'enum', values: { A: ['A', 'A级'], B: ['B', 'B级'], C: ['C', 'C级'], D: ['D', 'D级'] } },
      aliases: ['房屋安全等级', '安全等级', '鉴定等级'],
      required: true,
      classification: '敏感个人信息',
    },
    renovation_status: {
      type: {
        kind: 'enum',
        values: {
          not_started: ['未改造', '未开工', '未实施'],
          in_progress: ['改造中', '在建', '施工中'],
          completed: ['已竣工', '已完成', '竣工', '已改造'],
        },
      },
      aliases: ['改造状态', '危改状态', '改造进度'],
      classification: '敏感个人信息',
    },
    assessed_on: { type: { kind: 'date' }, aliases: ['鉴定日期', '鉴定时间'], classification: '个人信息' },
    completed_on: { type: { kind: 'date' }, aliases: ['竣工日期', '竣工时间'], classification: '个人信息' },
    ...IDENTITY_HINTS,
  },
  key: ['head_id_number'],
  order: [{ field: 'assessed_on', direction: 'desc' }],
  identity: { id: 'head_id_number', name: 'head_name', birthDate: 'birth_date', village: 'home_village' },
});
