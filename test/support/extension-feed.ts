/**
 * A feed that is not the project's: what a contributor adding a 13th feed writes, declared through the public
 * extension point only (defineFeed) and registered by passing a registry that holds it (`migrate`'s `feeds`
 * option). Used by test/integration/feed-extension.test.ts, and for a rule reading an extension's feed.
 *
 * 临时救助 from the civil affairs bureau: one row per grant to a person, on a date.
 */
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { defineFeed } from '../../schemas/feed.ts';

export const temporaryAid = defineFeed({
  id: 'test_temporary_aid',
  title: '临时救助台账',
  department: '民政局',
  mode: 'snapshot',
  // A grant of 临时救助 is social assistance: its date, amount and reason are sensitive (PIPL Art. 28).
  fields: {
    name: { type: { kind: 'name' }, aliases: ['姓名'], required: true, classification: '个人信息' },
    id_number: {
      type: { kind: 'id_number' },
      aliases: ['身份证号', '公民身份号码'],
      required: true,
      classification: '敏感个人信息',
    },
    village: { type: { kind: 'text' }, aliases: ['村', '所属村'], classification: '个人信息' },
    granted_on: {
      type: { kind: 'date' },
      aliases: ['救助日期'],
      required: true,
      classification: '敏感个人信息',
    },
    amount: {
      type: { kind: 'money' },
      aliases: ['救助金额', '救助金额(元)'],
      classification: '敏感个人信息',
    },
    reason: {
      type: {
        kind: 'enum',
        values: { illness: ['因病'], disaster: ['因灾'], accident: ['意外事故', '因意外'] },
      },
      aliases: ['救助事由'],
      classification: '敏感个人信息',
    },
    repeated: { type: { kind: 'boolean' }, aliases: ['是否多次救助'], classification: '敏感个人信息' },
  },
  key: ['id_number', 'granted_on'],
  // A rule counting a village's grants reads by village, which the key does not start with.
  indexes: { village: ['village'] },
  order: [],
  identity: { id: 'id_number', name: 'name', village: 'village' },
});

/** The project's registry with the extension's feed in it: what `migrate({ feeds })` is given. */
export const FEEDS_WITH_EXTENSION = { ...FEEDS, [temporaryAid.id]: temporaryAid };

/** The header of a 临时救助 file, as the department's system writes it. */
export const TEMPORARY_AID_HEADER = [
  '姓名',
  '身份证号',
  '村',
  '救助日期',
  '救助金额(元)',
  '救助事由',
  '是否多次救助',
];
