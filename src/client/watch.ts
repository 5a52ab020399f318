/**
 * Reloads a delivered credential when its file changes. Rotor (and most delivery tools)
 * replace files atomically by rename, which inotify-based watchers lose track of, so this
 * polls the file's change time — cheap, and it survives renames and editors alike.
 *
 * @example
 *   const watcher = watchJsonFile('/run/secrets/db.json', (c) => pool.swap(c), { onError: log.warn });
 *   await watcher.ready;   // rejects if there is no usable file yet (the watcher keeps looking)
 */
import { readFile, stat } from 'node:fs/promises';

export interface Watcher {
  /**
   * Stops watching. No `onChange` or `onError` call starts after `close()` returns; one
   * already running is not interrupted.
   */
  close(): void;
}

export interface WatchOptions {
  /** How often to look (default 1 s). */
  intervalMs?: number;
  /**
   * Called when reading, parsing or handling a change fails; the watcher keeps going. If it
   * throws, that is reported once per watcher as a process warning
   * (`ROTOR_WATCH_ON_ERROR_THREW`), never as an unhandled rejection, and the watcher still
   * keeps going.
   */
  onError?: (err: unknown) => void;
}

/**
 * Calls `onChange` with the parsed JSON now and after every change. A change handler that
 * throws leaves the previous value in use: a half-written or invalid file never replaces a
 * working credential, and the same file is tried again at the next look.
 *
 * `ready` settles after the first look: it resolves once `onChange` has accepted the file's
 * value, and rejects with the reason when the file is missing, is not JSON, or `onChange`
 * threw (the same error also goes to `onError`). Either way the watcher keeps polling, so a
 * file that appears later is still delivered. Ignoring `ready` is safe: its rejection is
 * never reported as unhandled.
 */
export function watchJsonFile<T>(path: string, onChange: (value: T) => void | Promise<void>, opts: WatchOptions = {}): Watcher & { ready: Promise<void> } {
  const interval = opts.intervalMs ?? 1000;
  let last = '';
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let warned = false;

  const report = (err: unknown) => {
    if (closed || !opts.onError) return;
    try {
      opts.onError(err);
    } catch (thrown) {
      if (warned) return;
      warned = true;
      process.emitWarning(`watchJsonFile(${path}): onError threw: ${(thrown as Error)?.message ?? String(thrown)}`, { code: 'ROTOR_WATCH_ON_ERROR_THREW' });
    }
  };

  /** Undefined when the file is unchanged or was delivered; the error otherwise. */
  const check = async (): Promise<{ error: unknown } | undefined> => {
    try {
      const s = await stat(path);
      const stamp = `${s.mtimeMs}:${s.ctimeMs}:${s.size}:${s.ino}`;
      if (stamp === last) return undefined;
      const value = JSON.parse(await readFile(path, 'utf8')) as T;
      if (closed) return { error: new Error(`watchJsonFile(${path}) was closed`) };
      await onChange(value);
      last = stamp;
      return undefined;
    } catch (error) {
      report(error);
      return { error };
    }
  };

  const loop = async () => {
    await check();
    if (!closed) timer = setTimeout(loop, interval);
  };

  const ready = check().then((failed) => {
    if (!closed) timer = setTimeout(loop, interval);
    if (failed) throw failed.error;
  });
  ready.catch(() => {}); // a caller that does not await `ready` must not crash the process
  return {
    ready,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
