import { randomBytes } from 'node:crypto';
import { isUserError } from '../errors.js';
import { t, type Locale } from '../i18n/index.js';
import type { Logger } from '../logger.js';

/**
 * The one mapping of a handler's error to what the user reads, for every platform: a UserError becomes its
 * localized text (logged at info); anything else "something went wrong (ref …)" with the same ref in the error log.
 */
export function errorText(err: unknown, locale: Locale, log: Logger, context: Record<string, unknown>): string {
  if (isUserError(err)) {
    log.info({ key: err.key, ...context }, 'refused');
    return t(locale, err.key, err.params);
  }
  const ref = randomBytes(3).toString('hex');
  log.error({ err, ref, ...context }, 'handler failed');
  return t(locale, 'error.internal', { ref });
}
