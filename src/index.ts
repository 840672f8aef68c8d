import { createServer } from 'node:http';
import { config } from './config';
import { prepareDatabase, prisma } from './db';
import { logger } from './logger';
import { yoga } from './server';

async function main() {
  await prepareDatabase();
  const server = createServer(yoga);
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info(`chat-gateway listening on http://${config.host}:${port} (GraphiQL at /graphql)`);
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    server.close(async () => {
      await prisma.$disconnect();
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error) => {
  logger.fatal(error, 'start-up failed');
  process.exit(1);
});
