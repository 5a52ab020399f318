/**
 * The daemon's log: one JSON line per event on stdout (pino), for journald, Loki or
 * CloudWatch. Every line passes through the redactor before it is written, so a value that
 * reached a message by any path (a driver's error, a hook's output) never reaches the log.
 *
 * @example
 * const log = daemonLog({ redact: (s) => redactor.redact(s) });
 * log.info({ event: 'rotation.finished', secret: 'db/app', status: 'succeeded' }, 'rotated');
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export type Log = Logger;

export function daemonLog(opts: { redact: (line: string) => string; level?: string; destination?: DestinationStream }): Log {
  return pino(
    {
      level: opts.level ?? process.env.ROTOR_LOG_LEVEL ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: { streamWrite: (line) => opts.redact(line) },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: true }),
  );
}
