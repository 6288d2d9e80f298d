import { z } from 'zod';
import type { Locale } from '../i18n/index.js';
import type { Db } from './db.js';

/**
 * /settings in SQLite: a user's defaults and preferences (per platform and user id), and a chat's policy set by its
 * admins (per platform and chat id). Each row is one JSON object, checked field by field on the way in and out: a
 * value this version does not understand is dropped, never an error, so adding a setting needs no migration.
 */
const field = <T extends z.ZodType>(s: T) => s.optional().catch(undefined);

export const userSettingsSchema = z.object({
  /** The reply language; absent: the platform's (auto). */
  language: field(z.enum(['en', 'zh-TW'])),
  /** Defaults for workflow options, applied wherever a workflow has the option and the value fits it. */
  aspect: field(z.string().min(1).max(100)),
  model: field(z.string().min(1).max(256)),
  count: field(z.number().int().min(1).max(100)),
  steps: field(z.number().int().min(1).max(1000)),
  /** Results for only the asker: Discord ephemeral, a Telegram DM when asked in a group. */
  visibility: field(z.enum(['public', 'private'])),
  /** A notification when a job completes. */
  pings: field(z.boolean()),
  /** Results hidden behind a spoiler. */
  spoilers: field(z.boolean()),
});
export type UserSettings = z.infer<typeof userSettingsSchema>;

export const chatSettingsSchema = z.object({
  /** 'on': every result in this chat is a spoiler; 'off': none is; absent: each user's own setting. */
  spoilers: field(z.enum(['on', 'off'])),
});
export type ChatSettings = z.infer<typeof chatSettingsSchema>;

/** Where nothing is stored. */
export const SETTING_DEFAULTS = { visibility: 'public', pings: true, spoilers: false } as const;

/** What a user's settings come to (in a chat, with its policy): the read API for sinks and commands. */
export interface EffectiveSettings {
  /** The chosen reply language; undefined: the platform's. */
  language?: Locale;
  /** Defaults for workflow options (applied only where a workflow has the option). */
  defaults: Pick<UserSettings, 'aspect' | 'model' | 'count' | 'steps'>;
  visibility: 'public' | 'private';
  pings: boolean;
  spoilers: boolean;
  /** Whether `spoilers` is the chat's policy (set by its admins) or the user's own choice. */
  spoilersBy: 'chat' | 'user';
}

/** A change: a value sets it, `undefined` clears it back to the default. */
export type SettingsPatch<T> = { [K in keyof T]?: T[K] | undefined };

function parse<T>(schema: z.ZodType<T>, json: string | undefined): T {
  if (!json) return schema.parse({});
  try {
    return schema.parse(JSON.parse(json));
  } catch {
    return schema.parse({});
  }
}

const compact = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export function createSettingsRepo({ db, now = Date.now }: { db: Db; now?: () => number }) {
  const s = {
    getUser: db.prepare(`SELECT settings FROM user_settings WHERE platform = ? AND user_id = ?`),
    putUser: db.prepare(
      `INSERT INTO user_settings (platform, user_id, settings, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (platform, user_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
    ),
    deleteUser: db.prepare(`DELETE FROM user_settings WHERE platform = ? AND user_id = ?`),
    getChat: db.prepare(`SELECT settings FROM chat_settings WHERE platform = ? AND chat_id = ?`),
    putChat: db.prepare(
      `INSERT INTO chat_settings (platform, chat_id, settings, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (platform, chat_id) DO UPDATE SET settings = excluded.settings, updated_by = excluded.updated_by,
         updated_at = excluded.updated_at`,
    ),
  };

  const get = (platform: string, userId: string): UserSettings =>
    parse(userSettingsSchema, (s.getUser.get(platform, userId) as { settings: string } | undefined)?.settings);
  const chat = (platform: string, chatId: string): ChatSettings =>
    parse(chatSettingsSchema, (s.getChat.get(platform, chatId) as { settings: string } | undefined)?.settings);

  return {
    /** What the user stored (nothing stored: `{}`). */
    get,
    /** Applies `patch` (validated; `undefined` clears a setting) and returns the result. */
    set(platform: string, userId: string, patch: SettingsPatch<UserSettings>): UserSettings {
      const next = userSettingsSchema.parse(compact({ ...get(platform, userId), ...patch }));
      s.putUser.run(platform, userId, JSON.stringify(next), now());
      return next;
    },
    /** Forgets every setting of this user. */
    reset(platform: string, userId: string) {
      s.deleteUser.run(platform, userId);
    },
    chat,
    setChat(platform: string, chatId: string, patch: SettingsPatch<ChatSettings>, by: string): ChatSettings {
      const next = chatSettingsSchema.parse(compact({ ...chat(platform, chatId), ...patch }));
      s.putChat.run(platform, chatId, JSON.stringify(next), by, now());
      return next;
    },
    /**
     * The settings in effect for a user, defaults filled in; with `chatId`, the chat's spoiler policy (when its admins
     * set one) wins over the user's own choice.
     */
    settingsFor(platform: string, userId: string, chatId?: string): EffectiveSettings {
      const u = get(platform, userId);
      const policy = chatId === undefined ? undefined : chat(platform, chatId).spoilers;
      return {
        language: u.language,
        defaults: compact({ aspect: u.aspect, model: u.model, count: u.count, steps: u.steps }),
        visibility: u.visibility ?? SETTING_DEFAULTS.visibility,
        pings: u.pings ?? SETTING_DEFAULTS.pings,
        spoilers: policy ? policy === 'on' : (u.spoilers ?? SETTING_DEFAULTS.spoilers),
        spoilersBy: policy ? 'chat' : 'user',
      };
    },
  };
}

export type SettingsRepo = ReturnType<typeof createSettingsRepo>;
