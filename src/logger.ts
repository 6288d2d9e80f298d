import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths pino blanks out wherever they occur; tokens never reach a log line. */
export const redactPaths = [
  'token',
  '*.token',
  'headers.authorization',
  '*.headers.authorization',
  'config.redisUrl',
  'redisUrl',
  '*.password',
  'config.telegram.token',
  'telegram.token',
  'TELEGRAM_BOT_TOKEN',
  'config.discord.token',
  'discord.token',
  'DISCORD_TOKEN',
  // discord.js errors carry the request URL, which holds an interaction token for webhook routes.
  'err.url',
  'err.requestBody',
  '*.err.url',
  '*.TELEGRAM_BOT_TOKEN',
  'password',
];

export function createLogger(opts: { level: string }, destination?: DestinationStream): Logger {
  return pino(
    {
      level: opts.level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    destination,
  );
}
