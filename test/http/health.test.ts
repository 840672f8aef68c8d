import { db, gateway } from '../support/gateway';
import { call } from '../support/http';

describe('health checks', () => {
  it('GET /health says the process is up', async () => {
    expect(await call('GET', '/health')).toMatchObject({ status: 200, json: { status: 'ok' } });
  });

  it('GET /ready says the database answers and every migration is applied', async () => {
    expect(await call('GET', '/ready')).toMatchObject({ status: 200, json: { status: 'ready' } });
  });

  it('GET /ready is 503 while a migration is not applied', async () => {
    const [row] = await db().$queryRawUnsafe<{ id: string; migration_name: string }[]>(
      'SELECT id, migration_name FROM "_prisma_migrations" ORDER BY started_at DESC LIMIT 1',
    );
    await db().$executeRawUnsafe(`UPDATE "_prisma_migrations" SET finished_at = NULL WHERE id = '${row?.id}'`);
    try {
      const r = await call('GET', '/ready');
      expect(r.status).toBe(503);
      expect(r.json.detail).toContain(row?.migration_name);
    } finally {
      await db().$executeRawUnsafe(`UPDATE "_prisma_migrations" SET finished_at = started_at WHERE id = '${row?.id}'`);
    }
    expect((await call('GET', '/ready')).status).toBe(200);
  });

  it('are not part of the REST API document', async () => {
    const { json } = await call('GET', '/openapi.json');
    expect(Object.keys(json.paths)).not.toContain('/health');
    expect(Object.keys(json.paths)).not.toContain('/ready');
  });

  it('GET /ready is 503 once shutdown has begun, so load balancers drain this instance', async () => {
    gateway().drain();
    const r = await call('GET', '/ready');
    expect(r.status).toBe(503);
    expect(r.json.detail).toMatch(/shutting down/);
    expect((await call('GET', '/health')).status).toBe(200);
  });
});
