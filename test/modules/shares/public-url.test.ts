import { configureGateway } from '../../support/gateway';
import { call, callFetch, newChat, newUser } from '../../support/http';

// With PUBLIC_URL, links are made from it; rate limits count the public page like any route.
configureGateway({ PUBLIC_URL: 'https://chat.example.com/app/', RATE_LIMIT_PER_MINUTE: '8' });

describe('share links with PUBLIC_URL and a rate limit', () => {
  it('makes the URL from PUBLIC_URL, whatever Host the request had', async () => {
    const owner = await newUser('public-url');
    const chat = await newChat(owner.user_id);
    const link = await callFetch('POST', `/chats/${chat.chat_id}/shares?user_id=${owner.user_id}`, {});
    expect(link.status).toBe(200);
    expect(link.json.url).toBe(`https://chat.example.com/app/shared/${link.json.token}`);

    // The public page takes no credentials, but the rate limit still counts it.
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await call('GET', `/shared/${link.json.token}`)).status);
    expect(statuses).toContain(429);
    expect(statuses[0]).toBe(200);
  });
});
