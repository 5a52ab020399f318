/** `rotor rotate <id…> | --all | --due [--no-grace] [--reason R] [--incident I] [--concurrency N]` */
import { runBatch } from '../../engine/batch.js';
import { UsageError } from '../../errors.js';
import { intFlag, parse, textFlag } from '../args.js';
import { openConfig, withRunner, selectSecrets } from '../open.js';
import { exitCodeFor, printOutcomes, Progress } from '../output.js';
import { dueSecrets } from '../due.js';
import type { StateStore, Trigger } from '../../state/types.js';
import type { RotorConfig, SecretConfig } from '../../config/schema.js';
import type { RotationOutcome } from '../../engine/context.js';

const USAGE = 'rotor rotate <id…> | --all | --due [--no-grace] [--reason R] [--incident I] [--concurrency N] [--json]';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(
    args,
    {
      all: { type: 'boolean' }, due: { type: 'boolean' }, 'no-grace': { type: 'boolean' },
      reason: { type: 'string' }, incident: { type: 'string' }, concurrency: { type: 'string' },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const modes = [values.all, values.due, positionals.length > 0].filter(Boolean).length;
  if (modes !== 1) throw new UsageError('name the secrets to rotate, or pass --all or --due (one of them)', `usage: ${USAGE}`);
  const reason = textFlag(values.reason, 'reason');
  const incident = textFlag(values.incident, 'incident');
  const concurrency = intFlag(values.concurrency, 'concurrency', 1, 256);
  const config = openConfig(values.config);
  const { outcomes, elapsedMs } = await rotateSecrets({
    config,
    select: async (state) =>
      values.all ? config.secrets : values.due ? dueSecrets(config.secrets, await state.summaries(), Date.now()) : selectSecrets(config, positionals),
    trigger: 'manual', reason, incident, noGrace: Boolean(values['no-grace']), concurrency,
  });
  if (values.json) process.stdout.write(`${JSON.stringify({ outcomes, elapsedMs })}\n`);
  else if (!outcomes.length) process.stdout.write('nothing to rotate\n');
  else printOutcomes(outcomes, elapsedMs);
  return exitCodeFor(outcomes);
}

export interface RotateRequest {
  config: RotorConfig;
  select: (state: StateStore) => Promise<SecretConfig[]>;
  trigger: Trigger;
  reason: string | null;
  incident: string | null;
  noGrace: boolean;
  concurrency: number | undefined;
  /** `rotor set`: the new value as given on stdin. */
  input?: string;
}

/** Shared by `rotate` and `emergency`. */
export async function rotateSecrets(req: RotateRequest): Promise<{ outcomes: RotationOutcome[]; elapsedMs: number }> {
  let progress: Progress | undefined;
  const started = Date.now();
  return withRunner(req.config, (e) => progress?.onEvent(e), async (runner, engine) => {
    const secrets = await req.select(engine.state);
    progress = new Progress(secrets.length, 'rotating');
    const outcomes = await runBatch(engine.deps, secrets, { concurrency: req.concurrency ?? req.config.concurrency }, (s, propagation) =>
      runner.rotate(s, { trigger: req.trigger, reason: req.reason, incident: req.incident, noGrace: req.noGrace, input: req.input }, propagation),
    );
    progress.end();
    return { outcomes, elapsedMs: Date.now() - started };
  });
}
