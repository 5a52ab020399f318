/**
 * Giving up on a target when the step's signal fires (a step timeout, the engine closing).
 * The engine's wrapper already fails the step on time; this is what makes the rotator stop
 * too, so a timed-out step leaves no login attempt or admin query running in the background
 * (and no socket keeping the process alive).
 *
 * @example
 * await untilAborted(signal, client.connect(), () => client.connection.stream.destroy());
 */

/**
 * `work`, or the signal's reason as soon as it fires and `onAbort` has cut the work off
 * (destroyed the socket, ended the statement on the server: it may return a promise). A rejection of the abandoned work is
 * absorbed, and a value it still delivers goes to `discard` (a pooled connection that
 * arrived too late is released, not leaked).
 */
export function untilAborted<T>(
  signal: AbortSignal | undefined, work: Promise<T>, onAbort: () => void | Promise<void>, discard?: (late: T) => void,
): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const abort = () => {
      if (done) return;
      done = true;
      const reason = signal.reason instanceof Error ? signal.reason : new Error('aborted');
      // Cutting off is best effort; the step fails with the signal's reason either way, once
      // the cut-off has done what it can (ended the statement on the server).
      let cut: void | Promise<void>;
      try {
        cut = onAbort();
      } catch {
        cut = undefined;
      }
      if (cut) cut.then(() => reject(reason), () => reject(reason));
      else reject(reason);
    };
    work.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        if (done) {
          discard?.(value);
          return;
        }
        done = true;
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort);
        if (done) return;
        done = true;
        reject(err);
      },
    );
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
}
