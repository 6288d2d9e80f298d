import type { TestProject } from 'vitest/node';
import { startRedisServer } from './redis-server.js';

/** One private redis-server for the whole run, on a free port; tests isolate themselves by key prefix. */
export default async function setup(project: TestProject) {
  const redis = await startRedisServer('relay-redis-');
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
