import { randomBytes } from 'node:crypto';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Writes a stream to `file` through a temporary file beside it, renamed only once complete: a reader never sees
 * half a file, and a failed copy leaves nothing behind ("the file exists" means "the file is whole").
 */
export async function writeWhole(file: string, source: AsyncIterable<Uint8Array> | Readable): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.part`;
  try {
    await pipeline(source instanceof Readable ? source : Readable.from(source), createWriteStream(tmp));
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
