import { describe, expect, it } from 'vitest';
import { ComfyUnavailableError } from '../../src/comfy/errors.js';
import { createOutageLog, isExpectedOutage, reasonOf } from '../../src/ops/outage-log.js';
import { memoryLogger } from '../support/logger.js';

const refused = () =>
  new ComfyUnavailableError('http://127.0.0.1:8188', 'GET /object_info: fetch failed', {
    cause: new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8188'), { code: 'ECONNREFUSED' }),
    }),
  });

describe('warnings for expected outages', () => {
  it('warns once, stays quiet while nothing changes, reminds every Nth time and says when it is back', () => {
    const { logger, lines } = memoryLogger('debug');
    const outage = createOutageLog(
      logger,
      { failing: (reason) => `ComfyUI is not reachable (${reason})`, recovered: 'ComfyUI is reachable again' },
      { remindEvery: 5 },
    );
    for (let i = 0; i < 12; i++) outage.failed(refused());
    outage.recovered();

    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings.map((l) => l.failures)).toEqual([1, 5, 10]);
    expect(warnings[0]?.msg).toMatchInlineSnapshot(`"ComfyUI is not reachable (connect ECONNREFUSED 127.0.0.1:8188)"`);
    expect(warnings.some((l) => 'err' in l || 'stack' in l)).toBe(false);
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'ComfyUI is reachable again', failures: 12 });
  });

  it('warns again at once when the reason changes, and after a recovery', () => {
    const { logger, lines } = memoryLogger('info');
    const outage = createOutageLog(logger, { failing: (reason) => `no WebSocket: ${reason}` });
    outage.failed(new Error('connect ECONNREFUSED 127.0.0.1:8188'));
    outage.failed(new Error('connect ECONNREFUSED 127.0.0.1:8188'));
    outage.failed(new Error('Unexpected server response: 502'));
    outage.recovered(); // no recovered text: silent
    outage.failed(new Error('connect ECONNREFUSED 127.0.0.1:8188'));
    expect(lines.map((l) => l.msg)).toEqual([
      'no WebSocket: connect ECONNREFUSED 127.0.0.1:8188',
      'no WebSocket: Unexpected server response: 502',
      'no WebSocket: connect ECONNREFUSED 127.0.0.1:8188',
    ]);
  });

  it('tells expected network failures from bugs', () => {
    expect(isExpectedOutage(refused())).toBe(true);
    expect(isExpectedOutage(new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } }))).toBe(true);
    expect(isExpectedOutage(new TypeError("Cannot read properties of undefined (reading 'outputs')"))).toBe(false);
    expect(reasonOf(new Error('connect ECONNREFUSED 127.0.0.1:8188'))).toBe('connect ECONNREFUSED 127.0.0.1:8188');
  });
});
