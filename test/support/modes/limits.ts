// Imported first by test/limits.test.ts: small limits, so the tests can reach them (config is read once).
process.env.GRAPHQL_MAX_DEPTH = '5';
process.env.ENABLE_INTROSPECTION = 'false';
process.env.ENABLE_GRAPHIQL = 'false';
process.env.MAX_BODY_BYTES = '2048';
process.env.CORS_ORIGINS = 'https://app.example.com';
