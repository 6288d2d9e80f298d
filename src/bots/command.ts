import type { Localized, Param } from '../comfy/manifest.js';
import type { UserSettings } from '../history/settings-repo.js';
import { type Locale, type MessageKey, t } from '../i18n/index.js';
import type { Action } from './actions.js';
import type { ProgressSink } from './progress/sink.js';

/**
 * The contract between behaviour and platforms. A command (or an action: a button, a menu pick, a form or a reply to
 * a question) is written once against `CommandContext`; Telegram, Discord and the terminal each implement the context
 * over their own update, interaction or argv. A command that needs `if (platform === …)` shows a missing capability:
 * add it here instead.
 */

/** Who is asking, the same shape on every platform. */
export interface Identity {
  platform: 'telegram' | 'discord' | 'cli';
  userId: string;
  /** Where the answer goes (a Telegram chat, a Discord channel; the user on the terminal). */
  chatId: string;
  /** Other ids the chat is known by, for allowlists (a Discord channel's guild). */
  chatAliases?: string[];
  locale: Locale;
  isAdmin: boolean;
  /** The asker's /settings, filled in by the dispatcher (absent where nothing was read). */
  settings?: UserSettings;
  /** The platform's language for this user (what "auto" means), kept when a chosen one replaced `locale`. */
  platformLocale?: Locale;
}

/** A control under a message. Buttons carry an encoded action; a select offers one action per option. */
export type ActionRow =
  | { kind: 'buttons'; buttons: Array<{ label: string; action: Action; style?: 'primary' | 'danger' }> }
  | {
      kind: 'select';
      placeholder: string;
      options: Array<{ label: string; short: string; description?: string; action: Action }>;
    };

export interface Reply {
  text: string;
  /** One picture shown with the text (a contact sheet). */
  image?: { data: Buffer; name: string };
  /** Stored result files (absolute paths) shown with the text. */
  files?: string[];
  /** Send `files` as they are (documents), never as pictures a platform recompresses. */
  asFiles?: boolean;
  rows?: ActionRow[];
  /** Only the asking user should see it, where the platform can do that (Discord ephemeral). */
  private?: boolean;
}

/** A file the command brought, not yet downloaded: its size when the platform says it up front. */
export interface MediaRef {
  kind: 'image' | 'audio';
  size?: number;
  /** The most this platform lets us download. */
  maxBytes: number;
  fetch(): Promise<Buffer>;
}

export interface CommandContext {
  readonly user: Identity;
  /** The longest text one message may hold here. */
  readonly maxText: number;
  /** How a command is typed here (`/` in chats, `npm run cli -- ` on the terminal), for usage texts. */
  readonly commandPrefix: string;
  /**
   * Acknowledge now, answer later (Discord's 3-second rule; a no-op where there is no deadline). `update`: the answer
   * will change the message the action came from (or nothing) rather than post a new one.
   */
  defer(opts?: { private?: boolean; update?: boolean }): Promise<void>;
  /** An error's text for the asking user (only them, where the platform can). */
  fail(text: string): Promise<void>;
  reply(reply: Reply): Promise<void>;
  /** Replace the message the action came from (paging); replies anew where there is none. */
  update(reply: Reply): Promise<void>;
  /** A question whose typed answer comes back as `action` with the answer text (Discord form, Telegram reply). */
  ask(question: { text: string; title: string; label: string; prefill: string; action: Action }): Promise<void>;
  /**
   * The files that came with the command, matched to these media parameters (by name where the platform has named
   * options, else in order of kind). Nothing is downloaded until `fetch`.
   */
  media(params: readonly Param[]): Record<string, MediaRef>;
  /**
   * How a file for this media parameter is sent here, as a catalog text that the caller renders in the reader's
   * language: with the command as a caption or in reply (Telegram), in the command's attachment option (Discord), as
   * `--image <file>` (terminal).
   */
  mediaHint(param: Param): { key: MessageKey; params?: Record<string, string | number> };
  /**
   * Where a new job's progress and result go (a message replying to the command, the deferred reply, a bar), in
   * `locale`. `private`: for the asker only where the platform can (Discord ephemeral; a Telegram DM when asked in a
   * group, or the group with a word why when the bot may not write to them first).
   */
  progressSink(opts?: { private?: boolean; locale?: Locale }): Promise<{ sink: ProgressSink; messageId?: string }>;
  /** Whether a select shows as one dropdown here (Discord); elsewhere each of its options is a button. */
  readonly dropdowns: boolean;
  /**
   * Whether the asker administers this group chat (Telegram administrator or creator; Discord Manage Server or
   * Manage Channels in the interaction). False in a private chat and on the terminal.
   */
  isChatAdmin(): Promise<boolean>;
  /** A new label for the control that sent this action (a toggle's state); the message's other controls stay. */
  relabel(label: string): Promise<void>;
}

/**
 * A command option: a manifest parameter (one definition per kind, `comfy/param-kinds.ts`), plus where its
 * suggestions come from on platforms that offer them while typing.
 */
export type OptionSpec = Param & { suggest?: 'jobs' | 'models' };

export interface CommandDefinition<I = Record<string, unknown>> {
  /** ^[a-z0-9_]{1,32}$: valid on Telegram and Discord. */
  name: string;
  description: Localized;
  options: OptionSpec[];
  /**
   * Free words typed after the command (Telegram, terminal) fill these options in order; the last one takes the rest
   * of the text as it was typed, flags included.
   */
  positional?: string[];
  /** Takes the rest of the typed text as it was written, flags included, once the positional options are filled. */
  rest?: string;
  adminOnly?: boolean;
  /** Left out of menus and slash registration (e.g. Telegram's /start). */
  hidden?: boolean;
  /** Runs without the allowlist (/start, /help: a refused user still learns what the bot is). */
  public?: boolean;
  /** A workflow command (its manifest drives the options). */
  workflow?: string;
  /**
   * Values for the options the input leaves out (the asker's /settings defaults): what was typed wins, and both go
   * through the one validation pass together.
   */
  defaults?(user: Identity): Record<string, unknown>;
  run(input: I, ctx: CommandContext): Promise<void>;
}

/** The context's `mediaHint` for this parameter, in its user's language. */
export function howToSend(ctx: CommandContext, param: Param): string {
  const hint = ctx.mediaHint(param);
  return t(ctx.user.locale, hint.key, hint.params);
}

export const defineCommand = <I>(def: CommandDefinition<I>) => def as unknown as CommandDefinition;
