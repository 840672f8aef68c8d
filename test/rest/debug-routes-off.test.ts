import { configureGateway } from '../support/gateway';
import { call, gql } from '../support/http';
import { DEBUG_ROUTES_OFF } from '../support/settings';

configureGateway(DEBUG_ROUTES_OFF);

describe('with ENABLE_DEBUG_ROUTES=false', () => {
  it('the debug route is 404 on REST and NOT_FOUND on GraphQL, and records nothing', async () => {
    const r = await call('POST', '/chats/debug/test-model-usage?model_name=gpt-3.5-turbo');
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ detail: 'Not Found' });
    const g = await gql('mutation { test_model_usage { success } }');
    expect(g.json.errors[0].extensions.code).toBe('NOT_FOUND');
    expect((await gql('{ model_usage { usage_id } }')).json.data.model_usage).toEqual([]);
  });

  it('the debug route is absent from the OpenAPI document', async () => {
    const { json } = await call('GET', '/openapi.json');
    expect(Object.keys(json.paths)).not.toContain('/chats/debug/test-model-usage');
    expect(Object.keys(json.paths)).toContain('/chats/');
  });

  it('the other routes still work', async () => {
    expect((await call('POST', '/chats/', {})).status).toBe(200);
  });
});
