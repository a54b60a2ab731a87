import { defineFeed } from '../../schemas/feed.ts';
import { identityHints, personFields, SEX } from './identity-hints.ts';

/** 学籍 (student roll) from the education bureau's student information system. */
export const studentRoll = defineFeed({
  id: 'student_roll',
  title: '学生学籍名册',
  department: '教育局',
  mode: 'snapshot',
  // Children in compulsory education: every field is a minor's, graded sensitive (PIPL Art. 28, 31).
  minors: true,
  fields: {
    ...personFields(
      { name: ['学生姓名', '姓名'], id: ['身份证件号', '学生身份证号', '学生身份证件号'] },
      '敏感个人信息',
    ),
    // The roll's 性别 and 出生日期 (identity hints) are checked against the ID by R13, reported to 教育局.
    sex: { ...SEX, classification: '敏感个人信息' },
    school_code: {
      type: { kind: 'text' },
      aliases: ['学校标识码', '学校代码'],
      classification: '敏感个人信息',
    },
    school_name: {
      type: { kind: 'text' },
      aliases: ['学校名称', '就读学校'],
      classification: '敏感个人信息',
    },
    stage: { type: { kind: 'text' }, aliases: ['学段'], classification: '敏感个人信息' },
    grade: { type: { kind: 'text' }, aliases: ['年级', '就读年级'], classification: '敏感个人信息' },
    status: {
      type: {
        kind: 'enum',
        values: {
          enrolled: ['在读', '在籍', '正常'],
          suspended: ['休学'],
          transferred: ['转出', '转学'],
          dropped_out: ['辍学', '失学'],
          graduated: ['毕业', '已毕业'],
        },
      },
      aliases: ['学籍状态', '在校状态'],
      required: true,
      classification: '敏感个人信息',
    },
    updated_on: {
      type: { kind: 'date' },
      aliases: ['更新日期', '变动日期', '更新时间'],
      classification: '敏感个人信息',
    },
    ...identityHints('敏感个人信息'),
  },
  // One current roll status per child: the latest update wins (a transfer shows as 转出 then 在读).
  key: ['id_number'],
  order: [{ field: 'updated_on', direction: 'desc' }],
  identity: { id: 'id_number', name: 'name', birthDate: 'birth_date', village: 'home_village' },
});
