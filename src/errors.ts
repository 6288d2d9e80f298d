import type { MessageKey } from './i18n/index.js';

/**
 * An error the user should read. It carries an i18n key and parameters; each frontend
 * renders it in the user's language. Everything else is shown as "something went wrong (ref …)".
 */
export class UserError extends Error {
  constructor(
    readonly key: MessageKey,
    readonly params: Record<string, string | number> = {},
    options?: { cause?: unknown },
  ) {
    super(`${key} ${JSON.stringify(params)}`, options);
    this.name = 'UserError';
  }
}

export const isUserError = (e: unknown): e is UserError => e instanceof UserError;
