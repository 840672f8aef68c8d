// A ChatGPT conversations.json as ChatGPT writes it, by hand: two conversations; the first with an
// edited question and a regenerated answer (so its tree branches), a system message, a tool call
// and its output, the empty root node every conversation has, and `current_node` on a branch
// that is not the latest. `word` makes its messages findable by search.

type Node = { id: string; message: object | null; parent: string | null; children: string[] };

const message = (id: string, role: string, text: string | null, time: number | null, extra: object = {}) => ({
  id,
  author: { role, name: null, metadata: {} },
  create_time: time,
  update_time: null,
  content: { content_type: 'text', parts: text === null ? [] : [text] },
  status: 'finished_successfully',
  end_turn: role === 'assistant' ? true : null,
  weight: 1,
  metadata: {},
  recipient: 'all',
  ...extra,
});

function mapping(nodes: [string, object | null, string | null][]): Record<string, Node> {
  const result: Record<string, Node> = {};
  for (const [id, msg, parent] of nodes) result[id] = { id, message: msg, parent, children: [] };
  for (const [id, , parent] of nodes) if (parent) result[parent]?.children.push(id);
  return result;
}

export const T0 = 1_700_000_000.5;
export const T1 = 1_700_100_000.25;

export function conversationsJson(word: string) {
  return [
    {
      title: 'Quarterly revenue analysis',
      create_time: T0,
      update_time: T0 + 95,
      mapping: mapping([
        ['root', null, null],
        [
          'sys',
          message('sys', 'system', '', null, { metadata: { is_visually_hidden_from_conversation: true } }),
          'root',
        ],
        ['u1', message('u1', 'user', `How did revenue grow in Q3? ${word}`, T0 + 10), 'sys'],
        ['a1a', message('a1a', 'assistant', 'Revenue grew 12%.', T0 + 20), 'u1'],
        ['u2', message('u2', 'user', 'Plot it by region', T0 + 30), 'a1a'],
        [
          'tool1',
          {
            ...message('tool1', 'assistant', null, T0 + 31, { recipient: 'python' }),
            content: { content_type: 'code', language: 'unknown', text: 'plot(df)' },
          },
          'u2',
        ],
        [
          'out1',
          {
            ...message('out1', 'tool', null, T0 + 32),
            author: { role: 'tool', name: 'python', metadata: {} },
            content: { content_type: 'execution_output', text: '<figure>' },
          },
          'tool1',
        ],
        ['a2', message('a2', 'assistant', 'Here is the plot by region.', T0 + 40), 'out1'],
        // The regenerated answer to u1.
        ['a1b', message('a1b', 'assistant', 'Revenue grew twelve percent in Q3.', T0 + 50), 'u1'],
        ['u3a', message('u3a', 'user', 'What about Q4?', T0 + 60), 'a1b'],
        ['a3a', message('a3a', 'assistant', 'Q4 grew 8%.', T0 + 70), 'u3a'],
        // The question u3a, edited.
        ['u3b', message('u3b', 'user', 'What about Q4 in Europe?', T0 + 80), 'a1b'],
        ['a3b', message('a3b', 'assistant', 'Europe grew 5% in Q4.', T0 + 90), 'u3b'],
      ]),
      moderation_results: [],
      current_node: 'a3a',
      plugin_ids: null,
      conversation_id: 'c0ffee00-0000-4000-8000-000000000001',
      is_archived: false,
      id: 'c0ffee00-0000-4000-8000-000000000001',
    },
    {
      title: 'Hello there',
      create_time: T1,
      update_time: T1 + 5,
      mapping: mapping([
        ['r', null, null],
        ['m1', message('m1', 'user', 'Hello, can you help me with pandas?', T1 + 1), 'r'],
        // No create_time: it takes the previous message's.
        ['m2', message('m2', 'assistant', 'Of course! What do you need?', null), 'm1'],
        [
          'h1',
          message('h1', 'user', 'hidden context', T1 + 3, { metadata: { is_visually_hidden_from_conversation: true } }),
          'm2',
        ],
        [
          'img',
          {
            ...message('img', 'user', null, T1 + 4),
            content: { content_type: 'multimodal_text', parts: [{ asset_pointer: 'file-service://x' }, 'this chart'] },
          },
          'h1',
        ],
      ]),
      current_node: null,
      id: 'c0ffee00-0000-4000-8000-000000000002',
    },
  ];
}
