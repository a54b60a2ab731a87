import { defineFeed } from '../../schemas/feed.ts';
import { IDENTITY_HINTS, personFields } from './identity-hints.ts';

/**
 * 残疾人证 (disability certificates) from the disabled persons' federation. The certificate number is the
 * ID number plus two digits (category, grade); the ID is recovered from it as in every feed's ID column.
 */
export const disability = defineFeed({
  id: 'disability',
  title: '持证残疾人名册',
  department: '残联',
  mode: 'snapshot',
  fields: {
    ...personFields({ name: ['姓名'], id: ['残疾人证号', '残疾证号', '残疾人证号码', '残疾证号码'] }),
    category: { type: { kind: 'text' }, aliases: ['残疾类别', '残疾类型'], classification: '敏感个人信息' },
    grade: {
      type: {
        kind: 'enum',
        values: {
          '1': ['一级', '1级', '一', '1'],
          '2': ['二级', '2级', '二', '2'],
          '3': ['三级', '3级', '三', '3'],
          '4': ['四级', '4级', '四', '4'],
        },
      },
      aliases: ['残疾等级', '等级'],
      required: true,
      classification: '敏感个人信息',
    },
    issued_on: { type: { kind: 'date' }, aliases: ['发证日期', '发证时间'], classification: '敏感个人信息' },
    cert_status: {
      type: {
        kind: 'enum',
        values: { valid: ['有效', '正常', '在用'], revoked: ['注销', '失效', '过期', '迁出'] },
      },
      aliases: ['证件状态', '状态'],
      classification: '敏感个人信息',
    },
    ...IDENTITY_HINTS,
  },
  key: ['id_number'],
  order: [{ field: 'issued_on', direction: 'desc' }],
  identity: { id: 'id_number', name: 'name', birthDate: 'birth_date', village: 'home_village' },
});
