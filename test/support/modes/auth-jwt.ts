// Imported first by test files that run the server with AUTH_MODE=jwt (config is read once).
export const JWT_SECRET = 'a-test-secret-that-is-at-least-32-characters-long';
process.env.AUTH_MODE = 'jwt';
process.env.JWT_SECRET = JWT_SECRET;
