import pino from 'pino';
import { config } from './config';

/** One structured (JSON lines) logger for the whole process. */
export const logger = pino({ level: config.logLevel, base: { service: 'chat-gateway' } });
