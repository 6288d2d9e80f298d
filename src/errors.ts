import type { Locale, MessageKey } from './i18n/index.js';

/** A value, or text in the reader's language (a validation problem), rendered when the message is. */
export type MessageParam = string | number | ((locale: Locale) => string);

/**
 * An error the user should read. It carries an i18n key and parameters; each frontend
 * renders it in the user's language. Everything else is shown as "something went wrong (ref …)".
 */
export class UserError extends Error {
  constructor(
    readonly key: MessageKey,
    readonly params: Record<string, MessageParam> = {},
    options?: { cause?: unknown },
  ) {
    super(`${key} ${JSON.stringify(params, (_k, v) => (typeof v === 'function' ? v('en') : v))}`, options);
    this.name = 'UserError';
  }
}

export const isUserError = (e: unknown): e is UserError => e instanceof UserError;
