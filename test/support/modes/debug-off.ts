// Imported first by test files that run the server with ENABLE_DEBUG_ROUTES=false (config is read once).
process.env.ENABLE_DEBUG_ROUTES = 'false';
