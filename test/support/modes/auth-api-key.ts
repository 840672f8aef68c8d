// Imported first by test files that run the server with AUTH_MODE=api-key (config is read once).
process.env.AUTH_MODE = 'api-key';
