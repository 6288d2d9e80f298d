import { type APIRequest, type REST, type ResponseLike, RESTEvents } from 'discord.js';
import type { Metrics } from '../../ops/metrics.js';

/** Discord routes we call, by what they do (label values come from this fixed set; everything else is "other"). */
const ROUTES: Array<[method: string, route: RegExp, name: string]> = [
  ['POST', /^\/interactions\/[^/]+\/[^/]+\/callback/, 'reply'],
  ['PATCH', /^\/webhooks\/[^/]+\/[^/]+\/messages\/@original/, 'editReply'],
  ['POST', /^\/webhooks\/[^/]+\/[^/]+/, 'followUp'],
  ['POST', /^\/channels\/[^/]+\/messages$/, 'createMessage'],
  ['PATCH', /^\/channels\/[^/]+\/messages\/[^/]+/, 'editMessage'],
  ['PUT', /^\/applications\/.*\/commands/, 'putCommands'],
  ['GET', /^\/applications\/.*\/commands/, 'getCommands'],
];

export function methodOf(method: string, path: string): string {
  return ROUTES.find(([m, re]) => m === method.toUpperCase() && re.test(path))?.[2] ?? 'other';
}

/** Counts every REST response (and each 429) for /metrics. */
export function countDiscordCalls(rest: REST, metrics: Metrics) {
  rest.on(RESTEvents.Response, (request: APIRequest, response: ResponseLike) => {
    const result = response.status === 429 ? '429' : response.ok ? 'ok' : 'error';
    metrics.platformCall('discord', methodOf(request.method, request.path), result);
  });
}
