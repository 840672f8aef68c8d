import { planCacheStats } from '../../src/db/patches/plan-cache';
import { statementCacheStats } from '../../src/db/patches/sqlite-statements';
import { configureGateway, db } from '../support/gateway';
import { addMessage, call, newChat, newUser } from '../support/http';
import { PATCHES_OFF } from '../support/settings';

configureGateway(PATCHES_OFF);

// PRISMA_PATCHES=off: the server runs on the libraries as shipped, and still works.
it('serves requests without touching the patches', async () => {
  const user = await newUser();
  const { chat_id } = await newChat(user.user_id);
  for (const content of ['one', 'two']) await addMessage(chat_id, content);
  for (let i = 0; i < 2; i++) {
    const read = await call('GET', `/chats/${chat_id}?user_id=${user.user_id}`);
    expect(read.status).toBe(200);
    expect(read.json.messages.map((m: { content: string }) => m.content)).toEqual(['one', 'two']);
  }
  expect(await db().message.count({ where: { chat_id } })).toBe(2);
  expect({ ...planCacheStats, ...statementCacheStats }).toEqual({ hits: 0, misses: 0, prepared: 0, reused: 0 });
});
