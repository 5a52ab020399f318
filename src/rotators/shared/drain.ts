/**
 * Drain before retire. Most outages blamed on rotation come from revoking a login that a
 * service still holds open. Where the server can list sessions per login, retire first
 * waits for them to end, then follows the secret's policy: hold the old credential and
 * name the clients, or proceed. An emergency always proceeds: the old value is presumed
 * compromised.
 */
import { parseDuration } from '../../config/duration.js';
import { RotorError } from '../../errors.js';
import type { DrainPolicy } from './spec.js';

export interface Session {
  /** Where the client connects from, e.g. 10.0.0.7:51432. */
  client: string;
  /** What the client calls itself (application_name, CLIENT SETNAME), when it says. */
  application: string;
}

export interface DrainRequest {
  login: string;
  policy: DrainPolicy;
  emergency: boolean;
  signal: AbortSignal;
  sessions: () => Promise<Session[]>;
  pollMs?: number;
}

/** Waits for `login` to have no sessions; returns a line for the step record, or throws to hold. */
export async function drain(req: DrainRequest): Promise<string> {
  const timeoutMs = parseDuration(req.policy.timeout) ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let live = await req.sessions();
  if (!live.length) return `no sessions on ${req.login}`;
  if (req.emergency) return `${describe(live)} still on ${req.login}: revoked anyway (emergency)`;
  while (live.length && Date.now() < deadline && !req.signal.aborted) {
    await new Promise((r) => setTimeout(r, Math.min(req.pollMs ?? 250, Math.max(0, deadline - Date.now()))));
    live = await req.sessions();
  }
  if (!live.length) return `sessions on ${req.login} ended`;
  if (req.policy.onTimeout === 'proceed') return `${describe(live)} still on ${req.login} after ${req.policy.timeout}: revoked anyway (drain.onTimeout: proceed)`;
  throw new RotorError(`held: ${describe(live)} still logged in as ${req.login} after ${req.policy.timeout}`, {
    outcome: 'needs-person',
    hint: 'those clients have not picked up the new credential: reload them, then run `rotor retire` again (or set drain.onTimeout: proceed)',
  });
}

function describe(sessions: Session[]): string {
  const shown = sessions.slice(0, 5).map((s) => (s.application ? `${s.client} (${s.application})` : s.client));
  const more = sessions.length > shown.length ? ` and ${sessions.length - shown.length} more` : '';
  return `${sessions.length} session${sessions.length === 1 ? '' : 's'} [${shown.join(', ')}${more}]`;
}
