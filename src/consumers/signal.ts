/**
 * Which process a signal reload may signal. Rotor often runs as root, and a pidfile is
 * often written by the service it names: a service user who could write any pid there
 * would make root send SIGTERM to any process on the host. So:
 *
 * - the pidfile must be one only root, Rotor's user and its owner can change — itself
 *   and its directory, as for files Rotor writes (fs/safe-path.ts), links included;
 * - the process must run as the reload's `user`, or, without one, as the pidfile's owner
 *   (its real and effective uid, from /proc/<pid>/status): a service can point Rotor only
 *   at its own processes.
 *
 * A pid written in rotor.yaml is trusted as the config is; its `user`, when given, is
 * still checked.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ReloadStep, RotorConfig } from '../config/schema.js';
import { checkNotWritableByOthers, resolveTarget } from '../fs/safe-path.js';
import { readChecked } from '../fs/safe-replace.js';
import { describeUid, uidOf } from '../fs/users.js';
import { RotorError } from '../errors.js';

type SignalStep = Extract<ReloadStep, { signal: string }>;

/** The pid to signal for `step`, checked; throws a RotorError with a hint when it may not be signalled. */
export function signalPidOf(config: RotorConfig, step: SignalStep): number {
  let pid = step.pid;
  let expected = step.user === undefined ? undefined : uidOf(step.user);
  if (step.user !== undefined && expected === undefined) {
    throw new RotorError(`there is no user ${step.user} on this host`, { outcome: 'rolled-back', hint: 'set the reload\'s `user` to a user name in /etc/passwd or to a uid' });
  }
  if (step.pidfile !== undefined) {
    const read = readPidfile(resolve(config.dir, step.pidfile));
    pid = read.pid;
    expected ??= read.owner;
  }
  if (pid === undefined || !Number.isInteger(pid) || pid < 2) throw new Error(`no usable pid in ${step.pidfile}`);
  if (expected !== undefined) checkRunsAs(pid, expected, step);
  return pid;
}

function readPidfile(path: string): { pid: number; owner: number } {
  const target = resolveTarget(path);
  if (!target.stat) throw new Error(`${path} does not exist (is the service running?)`);
  checkNotWritableByOthers(target.real, target.stat);
  // Read from the very file checked: same device and inode, no link followed.
  const text = (readChecked(target) ?? '').trim();
  return { pid: /^\d+$/.test(text) ? Number(text) : NaN, owner: target.stat.uid };
}

function checkRunsAs(pid: number, uid: number, step: SignalStep): void {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    throw new Error(`no process ${pid} is running${step.pidfile ? ` (from ${step.pidfile})` : ''}`);
  }
  const [real, effective] = (/^Uid:\s+(\d+)\s+(\d+)/m.exec(status) ?? []).slice(1).map(Number);
  if (real === uid && effective === uid) return;
  const whose = step.user === undefined ? `the owner of ${step.pidfile}` : 'the reload\'s `user`';
  throw new RotorError(`process ${pid} runs as ${describeUid(real ?? -1)}, not as ${describeUid(uid)} (${whose}): no signal sent`, {
    outcome: 'rolled-back',
    hint: step.user === undefined
      ? 'set `user:` on the signal reload to the user the service runs as, or make the pidfile belong to that user'
      : 'check the pidfile and the reload\'s `user`',
  });
}
