import { defineFeed } from '../../schemas/feed.ts';
import { IDENTITY_HINTS, personFields } from './identity-hints.ts';

/** 送教上门 list from the education bureau: children with severe disabilities schooled at home. */
export const homeSchooling = defineFeed({
  id: 'home_schooling',
  title: '送教上门学生名单',
  department: '教育局',
  mode: 'snapshot',
  fields: {
    ...personFields({ name: ['姓名', '学生姓名'], id: ['身份证号', '学生身份证号'] }),
    disability_category: { type: { kind: 'text' }, aliases: ['残疾类别', '残疾类型'] },
    school_name: { type: { kind: 'text' }, aliases: ['送教学校', '学校名称'] },
    started_on: { type: { kind: 'date' }, aliases: ['送教开始日期', '开始日期'] },
    ...IDENTITY_HINTS,
  },
  key: ['id_number'],
  order: [{ field: 'started_on', direction: 'desc' }],
  identity: { id: 'id_number', name: 'name', birthDate: 'birth_date', village: 'home_village' },
});
