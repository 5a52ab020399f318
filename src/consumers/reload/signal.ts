/**
 * `reload: [{ signal: HUP, pidfile: … }]`: signal one process, checked first (consumers/
 * signal.ts: a service must not be able to point Rotor at another user's process).
 */
import { z } from 'zod';
import { timed, type ConsumerActionKind } from '../kinds.js';

export const signalReloadSchema = z.strictObject({
  signal: z.enum(['HUP', 'USR1', 'USR2', 'TERM', 'INT']),
  pid: z.number().int().min(2).optional(),
  pidfile: z.string().min(1).max(4096).optional(),
  user: z
    .union([z.string().min(1).max(64), z.number().int().min(0).max(2 ** 32 - 1)])
    .optional()
    .describe('the user (name or uid) the process must run as; without it, the owner of the pidfile'),
  ...timed(0),
});
export type SignalReloadStep = z.infer<typeof signalReloadSchema>;

export const signalReload = {
  schema: signalReloadSchema,
  check: (raw) => (typeof raw.signal === 'string' && (raw.pid !== undefined) === (raw.pidfile !== undefined)
    ? 'a signal reload needs exactly one of `pid` or `pidfile`'
    : undefined),
  async run({ step, config }) {
    const { signalPidOf } = await import('../signal.js');
    const pid = signalPidOf(config, step);
    process.kill(pid, `SIG${step.signal}`);
    return `sent SIG${step.signal} to ${pid}`;
  },
} satisfies ConsumerActionKind<SignalReloadStep>;
