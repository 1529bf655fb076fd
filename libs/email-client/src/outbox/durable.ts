import { constants } from 'node:fs';
import { chmod, mkdir, open, rename } from 'node:fs/promises';

// The few fs primitives a crash-safe queue needs, in one place. No library does the whole
// sequence (write-file-atomic fsyncs the file but never the directory, and cannot stop between
// the fsync and the rename, which FolderOutbox needs to reserve the id first).

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** `dir` and each subfolder, created 0700 (and set to 0700 if they existed with looser bits). */
export async function ensureDirs(dir: string, subdirs: readonly string[]): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);
  for (const sub of subdirs) {
    await mkdir(`${dir}/${sub}`, { mode: DIR_MODE, recursive: true });
    await chmod(`${dir}/${sub}`, DIR_MODE);
  }
}

/** Writes `data` to a new file (0600, refusing to overwrite), flushed to disk before it resolves. */
export async function writeSynced(path: string, data: string): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, FILE_MODE);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes the directory entries of `dir` (renames, creations, removals) durable. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** rename, or false when the source is gone (another process moved it first). */
export async function moveIfPresent(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (error) {
    if (isCode(error, 'ENOENT')) return false;
    throw error;
  }
}

export function isCode(error: unknown, code: string): boolean {
  return (error as { code?: unknown } | null)?.code === code;
}
