import type { JobRecord, JobsRepo } from '../history/jobs-repo.js';
import type { UserSettings } from '../history/settings-repo.js';
import type { Logger } from '../logger.js';
import { UserError } from '../errors.js';
import type { Access } from './access.js';
import { type Action, decodeAction } from './actions.js';
import type { CommandContext, CommandDefinition, Identity, OptionSpec } from './command.js';
import { ownedJob } from './commands/common.js';
import { errorText } from './error-text.js';
import { parseArgs } from './parse-args.js';
import { parseOptions } from './validate.js';

/**
 * The one way in for every frontend: a command by name with its typed text or its platform-parsed values, or an
 * encoded action (button, menu pick, form, answer to a question). Access, admin-only, option parsing and job
 * ownership are checked here once; every error ends here too, as a localized answer through `ctx.fail`.
 */
export type ActionHandler<K extends Action['kind'] = Action['kind']> = {
  kind: K;
  run(
    action: Extract<Action, { kind: K }>,
    ctx: CommandContext,
    extra: { record?: JobRecord; answer?: string },
  ): Promise<void>;
};

export const defineAction = <K extends Action['kind']>(a: ActionHandler<K>) => a as unknown as ActionHandler;

export type CommandInput = { text: string } | { values: Record<string, unknown> };

export interface DispatcherDeps {
  commands: CommandDefinition[];
  actions: ActionHandler[];
  access: Access;
  repo: JobsRepo;
  logger: Logger;
  maxPromptChars: number;
  suggest: Suggester;
  /** The asker's stored /settings: their language for every answer and job, their defaults for workflows. */
  settings?: { get(platform: string, userId: string): UserSettings };
}

export type Suggester = (
  source: NonNullable<OptionSpec['suggest']>,
  q: { command: string; option: string; query: string; user: Identity },
) => Promise<Array<{ name: string; value: string }>>;

export function createDispatcher(deps: DispatcherDeps) {
  const commands = new Map(deps.commands.map((c) => [c.name, c]));
  const actions = new Map(deps.actions.map((a) => [a.kind, a]));

  function ensureAllowed(user: Identity) {
    const chats = [user.chatId, ...(user.chatAliases ?? [])];
    if (!deps.access.isAllowed(user.platform, user.userId, chats)) throw new UserError('error.not_allowed');
  }

  /**
   * The context as the asker set it up: their stored settings on the identity and, when they chose a language, that
   * language for everything that follows (answers, errors, the job's progress and result).
   */
  function personal(ctx: CommandContext): CommandContext {
    let settings: UserSettings | undefined;
    try {
      settings = deps.settings?.get(ctx.user.platform, ctx.user.userId);
    } catch (err) {
      deps.logger.warn({ err }, 'could not read the user settings; going on without them');
    }
    if (!settings) return ctx;
    const user: Identity = {
      ...ctx.user,
      settings,
      locale: settings.language ?? ctx.user.locale,
      platformLocale: ctx.user.locale,
    };
    // The platform's context stays the prototype: its methods and getters work as they are.
    return Object.create(ctx, { user: { value: user, enumerable: true } }) as CommandContext;
  }

  /** Runs `fn`; any error becomes the user's answer (a UserError its text, anything else a reference). */
  async function guarded(ctx: CommandContext, context: Record<string, unknown>, fn: () => Promise<void>) {
    try {
      await fn();
    } catch (err) {
      const text = errorText(err, ctx.user.locale, deps.logger, {
        platform: ctx.user.platform,
        userId: ctx.user.userId,
        ...context,
      });
      await ctx.fail(text).catch((e) => deps.logger.warn({ err: e }, 'could not send the error'));
    }
  }

  return {
    commands: deps.commands,
    has: (name: string) => commands.has(name),
    get: (name: string) => commands.get(name),

    command(name: string, input: CommandInput, platformCtx: CommandContext) {
      const ctx = personal(platformCtx);
      return guarded(ctx, { command: name }, async () => {
        const def = commands.get(name);
        if (!def) throw new UserError('error.unknown_workflow', { name });
        if (!def.public) ensureAllowed(ctx.user);
        if (def.adminOnly && !ctx.user.isAdmin) throw new UserError('error.admin_only');
        const typed = 'text' in input ? parseArgs(def, input.text) : input.values;
        const raw = def.defaults ? { ...def.defaults(ctx.user), ...typed } : typed;
        await def.run(parseOptions(def.options, raw, deps.maxPromptChars), ctx);
      });
    },

    action(data: string | Action, platformCtx: CommandContext, answer?: string) {
      const ctx = personal(platformCtx);
      return guarded(ctx, { action: typeof data === 'string' ? data : data.kind }, async () => {
        const action = typeof data === 'string' ? decodeAction(data) : data;
        const handler = action && actions.get(action.kind);
        if (!action || !handler) throw new UserError('error.unknown_button');
        ensureAllowed(ctx.user);
        // Ownership first: a stranger's click changes nothing.
        const record = 'jobId' in action ? ownedJob(deps.repo, ctx.user, action.jobId) : undefined;
        await handler.run(action, ctx, { record, answer });
      });
    },

    /** Choices while an option is being typed (Discord autocomplete); nothing for a user the bot is closed to. */
    async suggest(name: string, optionName: string, query: string, user: Identity) {
      const spec = commands.get(name)?.options.find((o) => o.name === optionName);
      if (
        !spec?.suggest ||
        !deps.access.isAllowed(user.platform, user.userId, [user.chatId, ...(user.chatAliases ?? [])])
      )
        return [];
      return deps.suggest(spec.suggest, { command: name, option: optionName, query, user });
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
