/**
 * A client that opens a new connection every few milliseconds with the credential its
 * consumer was last given, while the engine (in-process) rotates the secret again and
 * again with a short grace. The consumer is "given" the new value when the rotation
 * reaches propagate — the moment Rotor delivers it. Used by the zero-downtime test
 * (which asserts) and by `npm run bench` (which prints the figures).
 */
import { loadConfig } from '../../src/config/load.js';
import { runBatch } from '../../src/engine/batch.js';
import { Runner } from '../../src/engine/runner.js';
import { openEngine } from '../../src/cli/open.js';
import { readVersion, valueAccess } from '../../src/engine/values.js';
import type { Sandbox } from './sandbox.js';
import type { Accepts, DbValue } from './logins.js';

export interface ZeroDowntimeFigures {
  rotations: number;
  attempts: number;
  failed: number;
  failedOutsideRotation: number;
  /** Logins attempted while a rotation (through its retire) was under way. */
  attemptsDuringRotation: number;
  p99DuringMs: number;
  p99OutsideMs: number;
  /** Longest stretch, within one rotation, from the first failed login to the last (0 when none failed). */
  longestFailureWindowMs: number;
}

const p99 = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]! : 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function zeroDowntimeRun(sb: Sandbox, opts: { secretId: string; accepts: Accepts; rotations: number; graceMs: number; everyMs: number; outsideMs?: number }): Promise<ZeroDowntimeFigures> {
  process.env.ROTOR_MASTER_KEY = sb.masterKey;
  const { config } = loadConfig(sb.path('rotor.yaml'), { ...process.env, ...sb.baseEnv });
  const secret = config.secrets.find((s) => s.id === opts.secretId)!;
  secret.graceMs = opts.graceMs;
  let given: DbValue | undefined;
  const engine = await openEngine(config, (e) => {
    if (e.kind === 'step' && e.step === 'propagate' && e.phase === 'started') void deliver();
  });
  async function deliver() {
    const current = (await engine.state.liveVersions(secret.id)).find((v) => v.stage === 'current')!;
    given = (await readVersion(valueAccess(engine.deps, secret), current)) as unknown as DbValue;
  }
  const runner = new Runner(engine.deps);
  const opts0 = { trigger: 'manual' as const, reason: 'zero-downtime run', incident: null, noGrace: false };
  const rotate = () => runBatch(engine.deps, [secret], { concurrency: 1 }, (s) => runner.rotate(s, opts0));
  const retire = async () => {
    const open = (await engine.state.openRotations(secret.id)).find((r) => r.status === 'grace');
    if (open) await runBatch(engine.deps, [secret], { concurrency: 1 }, (s) => runner.retire(s, open));
  };

  try {
    await rotate();
    await sleep(opts.graceMs);
    await retire();
    await deliver();

    let rotating = -1;
    let stop = false;
    const during: number[] = [];
    const outside: number[] = [];
    const failures: { at: number; rotation: number }[] = [];
    const client = (async () => {
      while (!stop) {
        const value = given!;
        const at = performance.now();
        const inRotation = rotating;
        let ok: boolean;
        try {
          ok = await opts.accepts(value);
        } catch {
          ok = false;
        }
        (inRotation >= 0 ? during : outside).push(performance.now() - at);
        if (!ok) failures.push({ at, rotation: inRotation });
        await sleep(opts.everyMs);
      }
    })();

    for (let i = 0; i < opts.rotations; i++) {
      await sleep(opts.outsideMs ?? 100); // logins outside rotation, for the comparison
      rotating = i;
      const [outcome] = await rotate();
      if (outcome?.status !== 'grace') throw new Error(`rotation ${i} ended ${outcome?.status}: ${outcome?.error ?? ''}`);
      await sleep(opts.graceMs);
      await retire();
      rotating = -1;
    }
    stop = true;
    await client;

    let longest = 0;
    for (let i = 0; i < opts.rotations; i++) {
      const f = failures.filter((x) => x.rotation === i);
      if (f.length) longest = Math.max(longest, f[f.length - 1]!.at - f[0]!.at + opts.everyMs);
    }
    return {
      rotations: opts.rotations,
      attempts: during.length + outside.length,
      failed: failures.length,
      failedOutsideRotation: failures.filter((f) => f.rotation < 0).length,
      attemptsDuringRotation: during.length,
      p99DuringMs: p99(during),
      p99OutsideMs: p99(outside),
      longestFailureWindowMs: Math.round(longest),
    };
  } finally {
    await runner.close();
    await engine.close();
  }
}
