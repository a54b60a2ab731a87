import { defineFeed } from '../../schemas/feed.ts';
import { headIdAliases, IDENTITY_HINTS, personFields } from './identity-hints.ts';

/** 社会救助 (低保, 特困供养, 临时救助) from the civil affairs bureau. */
export const assistance = defineFeed({
  id: 'assistance',
  title: '社会救助对象名册',
  department: '民政局',
  mode: 'snapshot',
  fields: {
    ...personFields({ name: ['姓名', '救助对象姓名', '成员姓名'], id: ['身份证号'] }),
    head_id_number: {
      type: { kind: 'id_number' },
      aliases: headIdAliases('户主身份证号'),
      classification: '敏感个人信息',
    },
    aid_type: {
      type: {
        kind: 'enum',
        values: {
          minimum_living: ['城乡低保', '低保', '农村低保', '城市低保', '最低生活保障'],
          extreme_poverty: ['特困供养', '特困', '特困人员', '特困人员救助供养', '五保'],
          temporary: ['临时救助'],
        },
      },
      aliases: ['救助类型', '救助类别', '保障类型'],
      required: true,
      classification: '敏感个人信息',
    },
    // A one-off payment (临时救助) carries its payment date where a monthly benefit has its start; the later
    // aliases are only taken where none of the earlier ones is a header.
    started_on: {
      type: { kind: 'date' },
      aliases: ['开始日期', '开始时间', '批准日期', '享受开始日期', '发放日期', '救助日期', '发放时间'],
      classification: '敏感个人信息',
    },
    ended_on: {
      type: { kind: 'date' },
      aliases: ['终止日期', '结束日期', '停保日期'],
      classification: '敏感个人信息',
    },
    monthly_amount: {
      type: { kind: 'money' },
      aliases: ['月保障金额', '保障金额', '月救助金额'],
      classification: '敏感个人信息',
    },
    status: {
      type: {
        kind: 'enum',
        values: {
          active: ['正常', '在保', '享受中', '有效'],
          suspended: ['暂停', '停发'],
          terminated: ['终止', '停保', '退出', '注销'],
          // A one-off payment made (临时救助): neither an ongoing benefit nor one that was stopped. The rules that
          // look for ongoing support count `active` only; R10 reports one paid after the death date.
          paid: [
            '已发放',
            '发放完成',
            '已救助',
            '救助完成',
            '已领取',
            '已支付',
            '已拨付',
            '已兑付',
            '已到账',
            '已完成',
          ],
        },
      },
      aliases: ['状态', '救助状态', '保障状态'],
      required: true,
      classification: '敏感个人信息',
    },
    ...IDENTITY_HINTS,
  },
  key: ['id_number', 'aid_type'],
  order: [{ field: 'started_on', direction: 'desc' }],
  identity: { id: 'id_number', name: 'name', birthDate: 'birth_date', village: 'home_village' },
});
