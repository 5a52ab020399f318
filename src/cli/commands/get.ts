/**
 * `rotor get <id> [--stage S] [--version N] [--field F]`: prints a value for scripts. The
 * only command that prints secret values, and the read is audited.
 */
import { UsageError, NotFoundError } from '../../errors.js';
import { readVersion, valueAccess } from '../../engine/values.js';
import { intFlag, parse } from '../args.js';
import { openConfig, openEngine, selectSecrets } from '../open.js';

const USAGE = 'rotor get <id> [--stage current|previous|pending] [--version N] [--field F]';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { stage: { type: 'string' }, version: { type: 'string' }, field: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError('name one secret', `usage: ${USAGE}`);
  const stage = values.stage ?? 'current';
  if (!['current', 'previous', 'pending'].includes(stage)) throw new UsageError('--stage must be current, previous or pending');
  const wanted = intFlag(values.version, 'version', 1, Number.MAX_SAFE_INTEGER);
  if (wanted !== undefined && values.stage) throw new UsageError('give --stage or --version, not both');
  const config = openConfig(values.config, { readOnly: true });
  const [secret] = selectSecrets(config, positionals);
  const engine = await openEngine(config);
  try {
    const row = wanted !== undefined
      ? await engine.state.version(secret!.id, wanted)
      : (await engine.state.liveVersions(secret!.id)).filter((v) => v.stage === stage).pop();
    if (!row) throw new NotFoundError(`${secret!.id} has no ${wanted !== undefined ? `version ${wanted}` : `${stage} version`}`, 'see `rotor history ' + secret!.id + '`');
    const { deps } = engine;
    const value = await readVersion(valueAccess(deps, secret!), row);
    let out: string;
    if (values.field !== undefined) {
      if (typeof value === 'string' || !Object.hasOwn(value, values.field)) {
        throw new UsageError(`${secret!.id} has no field "${values.field}"`, typeof value === 'string' ? 'this value is a plain string: drop --field' : `fields: ${Object.keys(value).join(', ')}`);
      }
      const field = value[values.field];
      out = typeof field === 'string' ? field : JSON.stringify(field);
    } else {
      out = typeof value === 'string' ? value : JSON.stringify(value);
    }
    await engine.state.commit([
      {
        kind: 'audit',
        event: {
          at: Date.now(), actor: deps.actor, action: 'secret.read', secretId: secret!.id, version: row.version, rotationId: null,
          outcome: 'info', reason: null, incident: null, detail: values.field ? `field ${values.field}` : null,
        },
      },
    ]);
    process.stdout.write(`${out}\n`);
    return 0;
  } finally {
    await engine.close();
  }
}
