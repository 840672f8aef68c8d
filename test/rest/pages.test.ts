import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { GRAPHIQL_ASSETS } from '../../src/http/graphiql';
import { gateway } from '../support/gateway';

// Debian's Chromium; .ci/run installs it. Outside CI, a machine without it skips these checks.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = fs.existsSync(CHROMIUM);
if (!available && !process.env.CI) console.warn(`pages.test.ts skipped: no Chromium at ${CHROMIUM}`);
const SCREENSHOTS = path.join(__dirname, '..', '..', '.screenshots');

(available || process.env.CI ? describe : describe.skip)(
  'pages in headless Chromium, with no network but this server',
  () => {
    let server: Server;
    let origin: string;
    let browser: Browser;

    beforeAll(async () => {
      server = createServer(gateway().yoga);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
      });
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
    });

    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => server?.close(resolve));
    });

    async function open(pagePath: string) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const foreign: string[] = [];
      const errors: string[] = [];
      const requested: string[] = [];
      page.on('request', (request) => {
        const url = request.url();
        requested.push(url);
        if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')) foreign.push(url);
      });
      page.on('pageerror', (error) => errors.push(error.message));
      // Where a browser reports what the Content-Security-Policy blocked ("Refused to load ...").
      page.on('console', (message) => {
        if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
          errors.push(message.text());
        }
      });
      await page.goto(origin + pagePath, { waitUntil: 'load' });
      return { page, foreign, errors, requested };
    }

    it('/docs renders Swagger UI with the documented routes', async () => {
      const { page, foreign, errors } = await open('/docs');
      await page.getByText('Create a new chat').first().waitFor({ timeout: 15_000 });
      const summaries = await page.locator('.opblock-summary-path').allTextContents();
      expect(summaries.map((s) => s.replace(/\u200b/g, ''))).toEqual(
        expect.arrayContaining(['/chats/', '/chats/{chat_id}', '/chats/{chat_id}/messages', '/chats/users']),
      );
      await page.screenshot({ path: path.join(SCREENSHOTS, 'docs.png'), fullPage: true });
      expect(foreign).toEqual([]);
      expect(errors).toEqual([]);
    });

    it('/docs can call the API: "Try it out" on a bodiless POST', async () => {
      const { page, errors } = await open('/docs');
      await page.getByText('Test model usage tracking').first().click();
      await page.getByRole('button', { name: 'Try it out' }).first().click();
      const result = page.waitForResponse(
        (r) => r.url().startsWith(`${origin}/chats/debug/test-model-usage`) && r.request().method() === 'POST',
      );
      await page.getByRole('button', { name: 'Execute' }).first().click();
      const response = await result;
      expect(response.status()).toBe(200);
      expect(await response.json()).toMatchObject({ success: true });
      expect(errors).toEqual([]);
    });

    it('/graphql renders GraphiQL, which can run a query against this server', async () => {
      const { page, foreign, errors, requested } = await open(
        `/graphql?query=${encodeURIComponent('{ chats(limit: 1) { chat_id } }')}`,
      );
      await page.locator('.graphiql-execute-button').first().waitFor({ timeout: 15_000 });
      // The query's own answer: GraphiQL also POSTs its introspection query, which on a loaded
      // machine can still be in flight when the button is clicked.
      const result = page.waitForResponse(
        (r) =>
          r.url().startsWith(`${origin}/graphql`) &&
          r.request().method() === 'POST' &&
          !(r.request().postData() ?? '').includes('__schema'),
      );
      await page.locator('.graphiql-execute-button').first().click();
      const response = await result;
      expect(response.status()).toBe(200);
      expect(await response.json()).toEqual({ data: { chats: expect.any(Array) } });
      await page.getByText('"chats"').first().waitFor({ timeout: 5_000 });
      await page.screenshot({ path: path.join(SCREENSHOTS, 'graphiql.png') });
      expect(foreign).toEqual([]);
      expect(errors).toEqual([]);
      // Its scripts and Monaco's editor worker are files, not data inlined in the page.
      expect(requested).toEqual(
        expect.arrayContaining([
          `${origin}${GRAPHIQL_ASSETS}graphiql.js`,
          `${origin}${GRAPHIQL_ASSETS}editor.worker.js`,
        ]),
      );
    });
  },
);
