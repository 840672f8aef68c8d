import { configureGateway } from '../../support/gateway';
import { addMessage, call, gql, newChat, newUser } from '../../support/http';
import { SMALL_READS } from '../../support/settings';

configureGateway(SMALL_READS);

async function chatWith(messages: number) {
  const u = await newUser();
  const c = await newChat(u.user_id);
  for (let i = 0; i < messages; i++) await addMessage(c.chat_id, `m${i}`);
  return { user: u, chat: c };
}

const contents = (messages: { content: string }[]) => messages.map((m) => m.content);

describe('MAX_MESSAGES_PER_READ=5', () => {
  it('GET /chats/{chat_id} returns the newest 5 messages, oldest first; /messages pages further back', async () => {
    const { user, chat } = await chatWith(8);
    const r = await call('GET', `/chats/${chat.chat_id}?user_id=${user.user_id}`);
    expect(r.status).toBe(200);
    expect(contents(r.json.messages)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
    const newest = await call('GET', `/chats/${chat.chat_id}/messages?user_id=${user.user_id}&limit=5`);
    const older = await call(
      'GET',
      `/chats/${chat.chat_id}/messages?user_id=${user.user_id}&before=${newest.json.prev_cursor}`,
    );
    expect(contents(older.json.items)).toEqual(['m0', 'm1', 'm2']);
  });

  it('a chat within the limit comes whole', async () => {
    const { user, chat } = await chatWith(5);
    const r = await call('GET', `/chats/${chat.chat_id}?user_id=${user.user_id}`);
    expect(contents(r.json.messages)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('is the default and the maximum of Chat.messages(limit) on GraphQL', async () => {
    const { chat } = await chatWith(7);
    const r = await gql(`{ chat(chat_id: ${chat.chat_id}) { messages { content } } }`);
    expect(contents(r.json.data.chat.messages)).toEqual(['m2', 'm3', 'm4', 'm5', 'm6']);
    const over = await gql(`{ chat(chat_id: ${chat.chat_id}) { messages(limit: 6) { content } } }`);
    expect(over.json.errors[0]).toMatchObject({
      message: 'limit: must be at most 5',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });
});
