import { defineFeed } from '../../schemas/feed.ts';
import { identityHints, personFields } from './identity-hints.ts';

/** 送教上门 list from the education bureau: children with severe disabilities schooled at home. */
export const homeSchooling = defineFeed({
  id: 'home_schooling',
  title: '送教上门学生名单',
  department: '教育局',
  mode: 'snapshot',
  // Children in compulsory education: every field is a minor's, graded sensitive (PIPL Art. 28, 31).
  minors: true,
  fields: {
    ...personFields({ name: ['姓名', '学生姓名'], id: ['身份证号', '学生身份证号'] }, '敏感个人信息'),
    disability_category: {
      type: { kind: 'text' },
      aliases: ['残疾类别', '残疾类型'],
      classification: '敏感个人信息',
    },
    school_name: {
      type: { kind: 'text' },
      aliases: ['送教学校', '学校名称'],
      classification: '敏感个人信息',
    },
    started_on: {
      type: { kind: 'date' },
      aliases: ['送教开始日期', '开始日期'],
      classification: '敏感个人信息',
    },
    ...identityHints('敏感个人信息'),
  },
  key: ['id_number'],
  order: [{ field: 'started_on', direction: 'desc' }],
  identity: { id: 'id_number', name: 'name', birthDate: 'birth_date', village: 'home_village' },
});
