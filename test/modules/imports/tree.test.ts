// planChat on shapes a hand-made fixture does not reach: long chains listed leaf first, times out of order.
import { planChat, type SourceNode } from '../../../src/modules/imports/tree';

const source = (nodes: SourceNode[], currentNode: string | null = null) => ({
  title: 't',
  createdAt: 1_000,
  updatedAt: null,
  currentNode,
  nodes,
  where: (key: string) => `mapping["${key}"]`,
  parentField: 'parent',
});
const node = (key: string, parent: string | null, time: number | null, kept = true): SourceNode => ({
  key,
  parent,
  message: kept ? { content: key, sender: 'user', time } : null,
  skipped: !kept,
});

it('plans a 20,000-message chain listed leaf first, parents first, without deep recursion', () => {
  const n = 20_000;
  const nodes = Array.from({ length: n }, (_, i) => {
    const k = n - 1 - i;
    return node(`n${k}`, k === 0 ? null : `n${k - 1}`, 2_000 + k, k % 3 !== 1);
  });
  const plan = planChat(source(nodes), 0);
  expect(plan?.messages).toHaveLength(n - Math.floor((n + 1) / 3));
  expect(plan?.messages.every((m, i) => (i === 0 ? m.parent === null : m.parent === i - 1))).toBe(true);
  expect(plan?.branched).toBe(false);
  expect(plan?.activeLeaf).toBe((plan?.messages.length ?? 0) - 1);
});

it('never puts a message before its parent, even when its time says so', () => {
  const plan = planChat(source([node('a', null, 5_000), node('b', 'a', 1_000), node('c', null, 3_000)], 'b'), 0);
  expect(plan?.messages.map((m) => [m.content, m.timestamp.getTime(), m.parent])).toEqual([
    ['c', 3_000, null],
    ['a', 5_000, null],
    ['b', 5_000, 1],
  ]);
  // Two roots: a branched chat, whose active leaf is the current node.
  expect([plan?.branched, plan?.activeLeaf]).toEqual([true, 2]);
});
