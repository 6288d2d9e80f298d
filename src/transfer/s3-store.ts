import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { writeWhole } from './local-file.js';
import type { ObjectStoreLocation } from './object-store-url.js';
import { checkKey, TransferError, TransferTooLargeError, type TransferStore } from './store.js';

/**
 * The transfer store in an S3-compatible bucket (OBJECT_STORE_URL): for deployments that already run one, or move
 * files larger than Redis should hold. One object per file, `<prefix><job id>/<name>`, streamed both ways. Buckets
 * have no per-object expiry, so `sweep` (run hourly by the bot role) deletes what is older than the TTL; a
 * lifecycle rule on the prefix does the same on the server's side.
 */
export interface S3TransferStoreDeps {
  location: ObjectStoreLocation;
  region?: string;
  ttlMs: number;
  maxBytes: number;
  now?: () => number;
}

export function createS3TransferStore(deps: S3TransferStoreDeps): TransferStore {
  const { bucket, prefix } = deps.location;
  const now = deps.now ?? Date.now;
  const client = new S3Client({
    endpoint: deps.location.endpoint,
    // Self-hosted servers are addressed by path (http://host:9000/bucket/key); AWS by its virtual-host names.
    forcePathStyle: deps.location.endpoint !== undefined,
    region: deps.region ?? (deps.location.endpoint ? 'us-east-1' : undefined),
    credentials: deps.location.credentials,
    // Recent SDKs add CRC checksums and aws-chunked bodies by default, which many S3-compatible servers refuse.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const keyOf = (group: string, name: string) => `${prefix}${group}/${name}`;
  const wrap = (op: TransferError['op'], key: string, err: unknown) =>
    err instanceof TransferError || err instanceof TransferTooLargeError
      ? err
      : new TransferError(op, key, (err as Error).message, { cause: err });

  async function* list(under: string) {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: under, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (o.Key) yield { key: o.Key, at: o.LastModified?.getTime() ?? 0 };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  async function remove(keys: string[]) {
    // DeleteObjects takes at most 1000 keys per call.
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
      const res = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch } }));
      const failed = res.Errors?.[0];
      if (failed) throw new Error(`could not delete ${failed.Key}: ${failed.Code} ${failed.Message}`);
    }
  }

  return {
    kind: 'object store',
    async put(group, name, file) {
      checkKey(group, name);
      const key = keyOf(group, name);
      try {
        const { size } = await stat(file);
        if (size > deps.maxBytes) throw new TransferTooLargeError(name, size, deps.maxBytes);
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: size }),
        );
      } catch (err) {
        throw wrap('put', key, err);
      }
    },
    async get(group, name, file) {
      checkKey(group, name);
      const key = keyOf(group, name);
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if ((res.ContentLength ?? 0) > deps.maxBytes)
          throw new TransferTooLargeError(name, res.ContentLength ?? 0, deps.maxBytes);
        await writeWhole(file, res.Body as Readable);
        return true;
      } catch (err) {
        if (isMissing(err)) return false;
        throw wrap('get', key, err);
      }
    },
    async names(group) {
      checkKey(group, 'x');
      const under = keyOf(group, '');
      try {
        const out: string[] = [];
        for await (const o of list(under)) out.push(o.key.slice(under.length));
        return out;
      } catch (err) {
        throw wrap('names', under, err);
      }
    },
    async drop(group) {
      checkKey(group, 'x');
      const under = keyOf(group, '');
      try {
        const keys: string[] = [];
        for await (const o of list(under)) keys.push(o.key);
        await remove(keys);
      } catch (err) {
        throw wrap('drop', under, err);
      }
    },
    async sweep() {
      const keys: string[] = [];
      try {
        // Only keys shaped like ours (<job id>/<name>): the bucket may hold other things under the same prefix.
        for await (const o of list(prefix))
          if (JOB_KEY_RE.test(o.key.slice(prefix.length)) && now() - o.at > deps.ttlMs) keys.push(o.key);
        await remove(keys);
      } catch (err) {
        throw wrap('drop', prefix, err);
      }
      return keys.length;
    },
    async close() {
      client.destroy();
    },
  };
}

const JOB_KEY_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\//;

function isMissing(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404);
}
