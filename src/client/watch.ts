/**
 * Reloads a delivered credential when its file changes. Rotor (and most delivery tools)
 * replace files atomically by rename, which inotify-based watchers lose track of, so this
 * polls the file's change time — cheap, and it survives renames and editors alike.
 */
import { readFile, stat } from 'node:fs/promises';

export interface Watcher {
  close(): void;
}

export interface WatchOptions {
  /** How often to look (default 1 s). */
  intervalMs?: number;
  /** Called when reading or handling a change fails; the watcher keeps going. */
  onError?: (err: unknown) => void;
}

/**
 * Calls `onChange` with the parsed JSON now and after every change. A change handler that
 * throws leaves the previous value in use: a half-written or invalid file never replaces a
 * working credential.
 */
export function watchJsonFile<T>(path: string, onChange: (value: T) => void | Promise<void>, opts: WatchOptions = {}): Watcher & { ready: Promise<void> } {
  let last = '';
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    try {
      const s = await stat(path);
      const stamp = `${s.mtimeMs}:${s.ctimeMs}:${s.size}:${s.ino}`;
      if (stamp === last) return;
      const value = JSON.parse(await readFile(path, 'utf8')) as T;
      await onChange(value);
      last = stamp;
    } catch (err) {
      opts.onError?.(err);
    }
  };
  const loop = async () => {
    await check();
    if (!closed) timer = setTimeout(loop, opts.intervalMs ?? 1000);
  };
  const ready = check().then(() => {
    if (!closed) timer = setTimeout(loop, opts.intervalMs ?? 1000);
  });
  return {
    ready,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
