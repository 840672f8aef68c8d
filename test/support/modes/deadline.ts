// Imported first by test/deadline.test.ts: a short request deadline, so a test can pass it (config is read once).
process.env.REQUEST_DEADLINE_MS = '500';
