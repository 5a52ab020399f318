/** `rotor resume [--json]`: finish or roll back rotations a crash left open (app/resume.ts). */
import { exitCodeFor, exitCodeOf } from '../../app/outcomes.js';
import { resumeOpenRotations } from '../../app/resume.js';
import { parse } from '../args.js';
import { interruptible, openConfig } from '../open.js';
import { printOutcomes } from '../output.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, {}, 'rotor resume [--json]');
  if (!parsed) return 0;
  const config = openConfig(parsed.values.config);
  const { outcomes, orphans, cleared, elapsedMs } = await interruptible((signal) => resumeOpenRotations(config, { signal }));
  if (parsed.values.json) {
    process.stdout.write(`${JSON.stringify({
      outcomes, orphans: orphans.map((r) => ({ rotationId: r.id, secretId: r.secretId, status: r.status })),
      clearedLocks: cleared.map((l) => ({ secretId: l.secretId, pid: l.pid, host: l.host, acquiredAt: l.acquiredAt, expiresAt: l.expiresAt })),
    })}\n`);
  } else {
    for (const l of cleared) {
      process.stdout.write(`CLEARED     ${l.secretId}  stale lock of pid ${l.pid} on ${l.host} (taken ${new Date(l.acquiredAt).toISOString()}, lease ${l.expiresAt <= Date.now() ? 'expired' : 'held by a process that is gone'})\n`);
    }
    for (const r of orphans) {
      process.stdout.write(`ORPHAN      ${r.secretId}  rotation ${r.id} is ${r.status}, but the secret is no longer in rotor.yaml: put it back and run resume again\n`);
    }
    if (!outcomes.length && !orphans.length && !cleared.length) process.stdout.write('nothing to resume\n');
    else if (outcomes.length) printOutcomes(outcomes, elapsedMs);
  }
  // An open rotation of a secret no longer in rotor.yaml: a person must put it back.
  return orphans.length ? exitCodeOf('needs-person') : exitCodeFor(outcomes);
}
