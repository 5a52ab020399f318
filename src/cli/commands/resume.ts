/** `rotor resume [--json]`: finish or roll back rotations a crash left open. */
import { recover } from '../../engine/recovery.js';
import { parse } from '../args.js';
import { openConfig, withRunner } from '../open.js';
import { exitCodeFor, printOutcomes } from '../output.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, {}, 'rotor resume [--json]');
  if (!parsed) return 0;
  const config = openConfig(parsed.values.config);
  const started = Date.now();
  return withRunner(config, undefined, async (runner, engine) => {
    // After a crash, check the whole database structure before acting on it.
    engine.state.quickCheck(config.state.path);
    const { outcomes, orphans, cleared } = await recover(engine.deps, runner, config.concurrency);
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
      else if (outcomes.length) printOutcomes(outcomes, Date.now() - started);
    }
    return orphans.length ? 3 : exitCodeFor(outcomes);
  });
}
