import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The id of a STORAGE_DIR: a random UUID kept in STORAGE_DIR/.storage-id, made by whichever process reads it first.
 * Processes that read the same id share one disk, so they skip the transfer store; a copied STORAGE_DIR copies
 * its id too (delete the file in the copy).
 */
export async function readStorageId(storageDir: string): Promise<string> {
  const file = path.join(storageDir, '.storage-id');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing?.trim()) return existing.trim();
  await mkdir(storageDir, { recursive: true });
  // Written whole, then linked into place: link fails when another process won the race, and nobody reads half.
  const tmp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}`;
  await writeFile(tmp, randomUUID());
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  return (await readFile(file, 'utf8')).trim();
}
