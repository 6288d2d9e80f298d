import { randomBytes } from 'node:crypto';
import { isUserError, type UserError } from '../errors.js';
import { t, type Locale } from '../i18n/index.js';
import type { Logger } from '../logger.js';
import { exampleTextOf } from './usage.js';
import { MissingTextError, problemLines } from './validate.js';

/**
 * The one mapping of a handler's error to what the user reads, for every platform: a UserError becomes its
 * localized text (logged at info); anything else "something went wrong (ref …)" with the same ref in the error log.
 * `context.command`, the command being run, turns a missing text into that command's usage.
 */
export function errorText(
  err: unknown,
  locale: Locale,
  log: Logger,
  context: { command?: unknown } & Record<string, unknown>,
): string {
  if (isUserError(err)) {
    log.info({ key: err.key, ...context }, 'refused');
    return userErrorText(err, locale, { command: typeof context.command === 'string' ? context.command : undefined });
  }
  const ref = randomBytes(3).toString('hex');
  log.error({ err, ref, ...context }, 'handler failed');
  return t(locale, 'error.internal', { ref });
}

/**
 * A UserError in the reader's language. A required text left out answers with the command's usage and an example
 * (`Please add what to draw after /imagine, for example: /imagine a red fox in snow`), typed the way commands are
 * typed there (`prefix`), then anything else that was wrong.
 */
export function userErrorText(err: UserError, locale: Locale, usage: { command?: string; prefix?: string } = {}) {
  if (!(err instanceof MissingTextError) || !usage.command) return t(locale, err.key, err.params);
  const command = `${usage.prefix ?? '/'}${usage.command}`;
  const example = exampleTextOf(usage.command);
  const text = t(locale, 'input.missing_text', {
    label: err.param.description[locale],
    command,
    example: example ? `${command} ${example}` : '',
  });
  if (!err.others.length) return text;
  return `${text}\n\n${t(locale, 'error.invalid_options', { issues: problemLines(err.others, locale) })}`;
}
