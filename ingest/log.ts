/** The sidecar's logger: JSON lines in production, readable lines in a terminal. */
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** `pretty` for people, `json` for log collectors; default: pretty on a terminal. */
  format?: 'pretty' | 'json';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const level = options.level ?? 'info';
  if (format === 'json') return pino({ level, base: { service: 'ingest' } });
  return pino({
    level,
    base: undefined,
    transport: { target: 'pino-pretty', options: { colorize: process.stdout.isTTY, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
  });
}
