import { describeDatabase } from '../../src/http/banner';
import { startGateway, stopGateway } from '../support/gateway-process';

describe('the start-up lines', () => {
  it('name the pages, the database and, as a warning, that authentication is off', async () => {
    const gateway = await startGateway();
    try {
      // The lines after the first may arrive in a later chunk of the process' output.
      for (let i = 0; i < 100 && !/authentication is off/.test(gateway.output()); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const lines = gateway
        .output()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
      const start = lines.find((line) => /listening on/.test(line.msg));
      expect(start).toMatchObject({
        level: 'info',
        graphql: `${gateway.url}/graphql`,
        docs: `${gateway.url}/docs`,
        openapi: `${gateway.url}/openapi.json`,
        ready: `${gateway.url}/ready`,
        database: expect.stringMatching(/^(SQLite|PostgreSQL) /),
      });
      expect(new Date(start.time).toISOString()).toBe(start.time);
      expect(lines.filter((line) => line.level === 'warn').map((line) => line.msg)).toEqual([
        expect.stringContaining('authentication is off (AUTH_MODE=off)'),
      ]);
    } finally {
      await stopGateway(gateway);
    }
  });

  it('show the PostgreSQL server and database, never its credentials', () => {
    expect(
      describeDatabase({
        provider: 'postgresql',
        url: 'postgresql://app:s3cret@db.internal:5432/chat',
        poolSize: 10,
        preparedStatements: true,
      }),
    ).toBe('PostgreSQL db.internal:5432/chat');
  });
});
