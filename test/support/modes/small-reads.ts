// Imported first by test/messages-per-read.test.ts: a chat read of at most 5 messages (config is read once).
process.env.MAX_MESSAGES_PER_READ = '5';
