import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

/** A local S3-compatible server (s3rver, files in a temporary folder) with one bucket, `relay`. */
export async function startS3Server() {
  const dir = mkdtempSync(path.join(tmpdir(), 'relay-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    directory: dir,
    silent: true,
    configureBuckets: [{ name: 'relay' }],
  });
  const { port } = await server.run();
  return {
    /** OBJECT_STORE_URL for this server; s3rver accepts the key S3RVER with the secret S3RVER. */
    url: (prefix = 'transfer') => `http://S3RVER:S3RVER@127.0.0.1:${port}/relay/${prefix}`,
    dir,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
