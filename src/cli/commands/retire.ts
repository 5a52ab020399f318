/** `rotor retire [--due] [id…] [--force]`: revoke previous values whose grace has ended. */
import { runBatch } from '../../engine/batch.js';
import type { RotationRow } from '../../state/types.js';
import { parse } from '../args.js';
import { openConfig, withRunner, selectSecrets } from '../open.js';
import { exitCodeFor, printOutcomes, Progress } from '../output.js';

const USAGE = 'rotor retire [--due] [id…] [--force] [--json]   (--force: retire before grace ends, and past what would hold it, such as data still under an old key)';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { due: { type: 'boolean' }, force: { type: 'boolean' } }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const config = openConfig(values.config);
  const named = positionals.length ? selectSecrets(config, positionals) : config.secrets;
  let progress: Progress | undefined;
  const started = Date.now();
  return withRunner(config, (e) => progress?.onEvent(e), async (runner, engine) => {
    const now = Date.now();
    const inGrace = new Map<string, RotationRow>();
    for (const r of await engine.state.openRotations()) if (r.status === 'grace') inGrace.set(r.secretId, r);
    const selected = named.filter((s) => {
      const r = inGrace.get(s.id);
      return r !== undefined && (values.force || (r.retireAfter ?? Infinity) <= now);
    });
    const waiting = named.filter((s) => inGrace.has(s.id) && !selected.includes(s));
    progress = new Progress(selected.length, 'retiring');
    const outcomes = await runBatch(engine.deps, selected, { concurrency: config.concurrency }, (s) => runner.retire(s, inGrace.get(s.id)!, { force: values.force }));
    progress.end();
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ outcomes, waiting: waiting.map((s) => ({ secretId: s.id, retireAfter: inGrace.get(s.id)!.retireAfter })) })}\n`);
    } else {
      for (const s of waiting) {
        process.stdout.write(`waiting     ${s.id}  grace ends ${new Date(inGrace.get(s.id)!.retireAfter ?? 0).toISOString()} (--force to retire now)\n`);
      }
      if (!selected.length) process.stdout.write('nothing to retire\n');
      else printOutcomes(outcomes, Date.now() - started);
    }
    return exitCodeFor(outcomes);
  });
}
