import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseObjectStoreUrl } from './transfer/object-store-url.js';

const urlList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.url({ protocol: /^https?$/, error: 'each entry must be an http(s) URL' })).min(1));

/** Comma list of `platform:id` entries (ADMIN_USERS, ALLOWED_USERS, ALLOWED_CHATS). */
const idList = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(
      z.string().regex(/^(telegram|discord):-?\d+$/, {
        error: 'entries look like telegram:123456 or discord:123456789012345678',
      }),
    ),
  );

const isObjectStoreUrl = (v: string) => {
  try {
    parseObjectStoreUrl(v);
    return true;
  } catch {
    return false;
  }
};

/** Telegram accounts shared by many people (anonymous admins, channel posts, automatic forwards). */
const SHARED_IDS = new Set(['telegram:1087968824', 'telegram:136817688', 'telegram:777000']);

const posInt = (def: number, max?: number) => {
  let n = z.coerce.number().int().positive();
  if (max !== undefined) n = n.max(max);
  return n.default(def);
};

export const configSchema = z
  .object({
    COMFY_URL: z
      .string()
      .default('http://127.0.0.1:8188')
      .pipe(urlList)
      // comma list = several ComfyUI instances
      .transform((urls: string[]) => urls.map((u) => u.replace(/\/+$/, ''))),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    STORAGE_DIR: z.string().min(1).default('./storage'),
    DATABASE_PATH: z.string().min(1).optional(),
    /** A job running longer than this fails clearly (the old studio's 3600 s). */
    JOB_TIMEOUT_S: posInt(3600, 24 * 3600),
    PROGRESS_INTERVAL_S: z.coerce.number().min(0.5).max(60).default(3),
    /** "Still working · 0:41" after this long without news, so a silent node never looks dead. */
    HEARTBEAT_S: z.coerce.number().min(0.5).max(3600).default(10),
    /**
     * A new job's first message waits this long for the result: a job done by then is answered with its result alone
     * (one message instead of two; Telegram shows "sending a photo…" meanwhile). 0: the job's message at once.
     */
    PROGRESS_GRACE_S: z.coerce.number().min(0).max(10).default(0),
    /** At most one new preview picture per progress message per this many seconds; 0 turns previews off. */
    PREVIEW_INTERVAL_S: z.coerce.number().min(0).max(3600).default(5),
    /** A job that took longer than this (from the command to its end) also pings its user when it ends. */
    NOTIFY_AFTER_S: z.coerce
      .number()
      .min(0)
      .max(7 * 86_400)
      .default(120),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Prefix for every BullMQ key, so several deployments can share one Redis. */
    QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default('comfy-relay'),
    /** Longest prompt text accepted (the old studio's limit). */
    MAX_PROMPT_CHARS: posInt(1000, 10000),
    /** Seconds between object_info refreshes (model lists). */
    OBJECT_INFO_REFRESH_S: posInt(300),
    /** Job lock lifetime; a killed worker's job is picked up again after about this long. */
    WORKER_LOCK_S: posInt(30, 600),
    /** An output download fails (and is retried) after this long without a byte; its total time is not bounded. */
    COMFY_DOWNLOAD_IDLE_S: posInt(60, 3600),
    /** Outputs bigger than this (MB of 1,048,576 bytes) are refused instead of downloaded. */
    COMFY_DOWNLOAD_MAX_MB: posInt(2000, 100_000),
    /**
     * Seconds SIGTERM/SIGINT may take: a running prompt gets most of it to finish, then is handed back to the queue.
     * docker-compose's stop_grace_period must be longer, or docker kills the process before it has handed back.
     */
    SHUTDOWN_TIMEOUT_S: posInt(25, 3600),
    // --- bots ---
    TELEGRAM_BOT_TOKEN: z
      .string()
      .regex(/^\d+:[\w-]{20,}$/, { error: 'expected the token BotFather gave, like 123456:ABC-DEF…' })
      .optional(),
    /** A local Bot API server (lifts the 20 MB download / 50 MB upload limits). */
    TELEGRAM_API_ROOT: z
      .url({ protocol: /^https?$/ })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    /** Whether TELEGRAM_API_ROOT runs with --local (no 20 MB download cap, 2000 MB uploads). Default: yes when it is set. */
    TELEGRAM_API_LOCAL: z.stringbool().optional(),
    /**
     * Webhook mode: the public HTTPS address Telegram posts updates to, e.g. https://relay.example.org/telegram/<x>;
     * the operator's reverse proxy passes its path on to HTTP_HOST:HTTP_PORT. Unset: long polling.
     */
    TELEGRAM_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Sent by Telegram with every webhook request (X-Telegram-Bot-Api-Secret-Token); default: derived from the token. */
    TELEGRAM_WEBHOOK_SECRET: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,256}$/, { error: '1 to 256 characters: letters, digits, _ and -' })
      .optional(),
    DISCORD_TOKEN: z.string().min(50, { error: 'expected the bot token from the Discord developer portal' }).optional(),
    /** Taken from the gateway's READY when unset. */
    DISCORD_APPLICATION_ID: z
      .string()
      .regex(/^\d{15,21}$/)
      .optional(),
    /** Register commands in this guild only (instant; for development). */
    DISCORD_GUILD_ID: z
      .string()
      .regex(/^\d{15,21}$/)
      .optional(),
    /** REST base in discord.js's form, http://host:port/api (no version); the gateway URL is discovered through it. */
    DISCORD_API_URL: z
      .url({ protocol: /^https?$/ })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    /** Move progress off the 15-minute interaction token after this long. */
    DISCORD_HANDOVER_S: posInt(780, 870),
    /** Replace a status message before it is this old (edits to messages over an hour old are scarce). */
    DISCORD_ROLLOVER_S: posInt(3300, 3540),
    /** `telegram:<id>` / `discord:<id>` entries. */
    ADMIN_USERS: idList.refine((ids) => !ids.some((id) => SHARED_IDS.has(id)), {
      error:
        'telegram:1087968824, telegram:136817688 and telegram:777000 are accounts Telegram shares between many people (anonymous admins, channels, forwards); they cannot be admins',
    }),
    ALLOWED_USERS: idList,
    ALLOWED_CHATS: idList,
    RATE_LIMIT_PER_MINUTE: posInt(10, 1000),
    MAX_QUEUED_PER_USER: posInt(3, 100),
    /** GPU seconds of successful jobs each user may spend per UTC day (admins exempt); 0 = no limit. */
    GPU_SECONDS_PER_DAY: z.coerce.number().int().min(0).max(8_640_000).default(0),
    /** How long a job may wait for a GPU that has its model loaded while a GPU without it is free. */
    WARM_MODEL_GRACE_S: z.coerce.number().min(0).max(600).default(10),
    /** Public base URL of this deployment's HTTP server; enables download links for results too large to upload. */
    PUBLIC_URL: z
      .url({ protocol: /^https?$/ })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    /** Port of the HTTP server every role runs (/healthz, /readyz, /metrics, download links). */
    HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    /** Address it listens on; 0.0.0.0 in a container, or when download links are served without a local proxy. */
    HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    /** How long a download link works. */
    LINK_TTL_H: posInt(24, 24 * 30),
    /** Uploaded inputs are deleted after this many hours (remix of an older job then asks for the file again). */
    INPUT_RETENTION_H: posInt(24, 24 * 365),
    /** Outputs are deleted after this many days; their history rows are soft-deleted. */
    OUTPUT_RETENTION_D: posInt(30, 3650),
    /**
     * Where files cross between a frontend and a worker that do not share STORAGE_DIR: unset, through Redis (chunked);
     * set, an S3-compatible bucket: s3://bucket[/prefix] or http(s)://key:secret@host:port/bucket[/prefix].
     */
    OBJECT_STORE_URL: z
      .string()
      .refine((v) => isObjectStoreUrl(v), {
        error: 'expected s3://bucket[/prefix] or http(s)://key:secret@host[:port]/bucket[/prefix]',
      })
      .optional(),
    /** The bucket's region (default us-east-1 for an http(s) URL; for s3:// the AWS SDK's own lookup). */
    OBJECT_STORE_REGION: z
      .string()
      .regex(/^[a-z0-9-]+$/)
      .optional(),
    /** A transferred file is deleted once its job is delivered, and after this many hours at the latest. */
    TRANSFER_TTL_H: posInt(24, 24 * 30),
    /** Largest file that crosses between hosts (MB of 1,048,576 bytes); a larger output fails as too large. */
    TRANSFER_MAX_MB: posInt(200, 100_000),
    /** Folder with <name>.json + <name>.manifest.json pairs. */
    WORKFLOWS_DIR: z
      .string()
      .min(1)
      .default(fileURLToPath(new URL('../workflows', import.meta.url))),
  })
  .transform((env) => {
    const storageDir = path.resolve(env.STORAGE_DIR);
    return {
      comfyUrls: env.COMFY_URL,
      redisUrl: env.REDIS_URL,
      storageDir,
      databasePath: path.resolve(env.DATABASE_PATH ?? path.join(storageDir, 'history.db')),
      jobTimeoutMs: env.JOB_TIMEOUT_S * 1000,
      progressIntervalMs: Math.round(env.PROGRESS_INTERVAL_S * 1000),
      heartbeatMs: Math.round(env.HEARTBEAT_S * 1000),
      previewIntervalMs: Math.round(env.PREVIEW_INTERVAL_S * 1000),
      progressGraceMs: Math.round(env.PROGRESS_GRACE_S * 1000),
      notifyAfterMs: Math.round(env.NOTIFY_AFTER_S * 1000),
      logLevel: env.LOG_LEVEL,
      queuePrefix: env.QUEUE_PREFIX,
      maxPromptChars: env.MAX_PROMPT_CHARS,
      objectInfoRefreshMs: env.OBJECT_INFO_REFRESH_S * 1000,
      workflowsDir: path.resolve(env.WORKFLOWS_DIR),
      workerLockMs: env.WORKER_LOCK_S * 1000,
      comfyDownloadIdleMs: env.COMFY_DOWNLOAD_IDLE_S * 1000,
      comfyDownloadMaxBytes: env.COMFY_DOWNLOAD_MAX_MB * 1_048_576,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_S * 1000,
      telegram: env.TELEGRAM_BOT_TOKEN
        ? {
            token: env.TELEGRAM_BOT_TOKEN,
            apiRoot: env.TELEGRAM_API_ROOT,
            isLocalApi: env.TELEGRAM_API_LOCAL ?? Boolean(env.TELEGRAM_API_ROOT),
            webhook: env.TELEGRAM_WEBHOOK_URL
              ? {
                  url: env.TELEGRAM_WEBHOOK_URL,
                  // Never without a secret: one derived from the token, which only this deployment knows.
                  secret:
                    env.TELEGRAM_WEBHOOK_SECRET ??
                    createHash('sha256').update(`webhook:${env.TELEGRAM_BOT_TOKEN}`).digest('hex'),
                }
              : undefined,
          }
        : undefined,
      discord: env.DISCORD_TOKEN
        ? {
            token: env.DISCORD_TOKEN,
            applicationId: env.DISCORD_APPLICATION_ID,
            guildId: env.DISCORD_GUILD_ID,
            apiUrl: env.DISCORD_API_URL,
            handoverMs: env.DISCORD_HANDOVER_S * 1000,
            rolloverMs: env.DISCORD_ROLLOVER_S * 1000,
          }
        : undefined,
      access: { admins: env.ADMIN_USERS, allowedUsers: env.ALLOWED_USERS, allowedChats: env.ALLOWED_CHATS },
      inputRetentionMs: env.INPUT_RETENTION_H * 3_600_000,
      outputRetentionMs: env.OUTPUT_RETENTION_D * 86_400_000,
      publicUrl: env.PUBLIC_URL,
      httpPort: env.HTTP_PORT,
      httpHost: env.HTTP_HOST,
      linkTtlMs: env.LINK_TTL_H * 3_600_000,
      transfer: {
        objectStore: env.OBJECT_STORE_URL ? parseObjectStoreUrl(env.OBJECT_STORE_URL) : undefined,
        region: env.OBJECT_STORE_REGION,
        ttlMs: env.TRANSFER_TTL_H * 3_600_000,
        maxBytes: env.TRANSFER_MAX_MB * 1_048_576,
      },
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
      maxQueuedPerUser: env.MAX_QUEUED_PER_USER,
      gpuSecondsPerDay: env.GPU_SECONDS_PER_DAY,
      warmModelGraceMs: Math.round(env.WARM_MODEL_GRACE_S * 1000),
    };
  });

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  constructor(
    readonly details: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid configuration:\n${details}`, options);
    this.name = 'ConfigError';
  }
}

/** Pure: env record in, Config out; every bad variable reported at once, by name. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset" (docker-compose and .env files produce them).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) throw new ConfigError(z.prettifyError(parsed.error), { cause: parsed.error });
  return parsed.data;
}
