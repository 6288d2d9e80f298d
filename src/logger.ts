import { createRequire } from 'node:module';
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

/**
 * Secrets also hide inside free text that no redact path reaches: grammY's HttpError message and stack quote the
 * request URL (`https://api.telegram.org/bot<token>/getMe`), ioredis errors quote the URL with its password, and
 * discord.js quotes webhook/interaction routes whose last segment is a token. Every line is scrubbed as text,
 * after serialization, so err.message, err.stack, causes, msg and nested strings are all covered.
 */
const secretPatterns: Array<[RegExp, string]> = [
  // Telegram API and file URLs: /bot<token>/… and /file/bot<token>/…
  [/\/bot\d+:[^/\s"'\\?#]+/g, '/bot[redacted]'],
  // A bare Telegram token: <bot id>:<35 url-safe chars>.
  [/\b\d{5,}:[A-Za-z0-9_-]{30,}/g, '[redacted]'],
  // Discord bot token: base64(user id).timestamp.hmac
  [/\b[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{25,}/g, '[redacted]'],
  // Authorization header values quoted in text.
  [/\b(Bot|Bearer)\s+[A-Za-z0-9._-]{20,}/g, '$1 [redacted]'],
  // Webhook and interaction routes: the segment after the id is a token.
  [/\/(webhooks|interactions)\/(\d+)\/[^/\s"'\\?#]+/g, '/$1/$2/[redacted]'],
  // user:password@ in any URL (redis://:pass@host, https://user:pass@proxy).
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/"'\\@]+@/gi, '$1[redacted]@'],
];

/** The text with every token-shaped secret replaced by [redacted]. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [re, replacement] of secretPatterns) out = out.replace(re, replacement);
  return out;
}

/**
 * One root logger. A passed destination receives JSON lines (tests, the CLI's stderr). Otherwise stdout gets
 * human-readable lines when it is a terminal and JSON when it is not (docker, systemd, a log shipper).
 */
export function createLogger(opts: { level: string; pretty?: boolean }, destination?: DestinationStream): Logger {
  const isPretty = destination === undefined && (opts.pretty ?? process.stdout.isTTY === true);
  const inner: DestinationStream = destination ?? prettyOrJson(isPretty);
  const scrubbing: DestinationStream = { write: (line: string) => inner.write(scrubSecrets(line)) };
  return pino(
    {
      level: opts.level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: isPretty ? undefined : { pid: process.pid },
    },
    scrubbing,
  );
}

function prettyOrJson(isPretty: boolean): DestinationStream {
  // Synchronous writes: the last line before process.exit (a fatal reason, the shutdown deadline) is not lost.
  const stdout = pino.destination({ fd: 1, sync: true });
  if (!isPretty) return stdout;
  // pino-pretty (and the streams it brings) loads only for a terminal: JSON lines, as in docker and under systemd, do
  // without its ~50 ms of start-up. createRequire keeps createLogger synchronous (pino-pretty is CommonJS).
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const format = prettyFactory({
    colorize: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,module',
    messageFormat: '{if module}[{module}] {end}{msg}',
    singleLine: true,
  });
  return { write: (line: string) => stdout.write(format(line)) };
}
