/**
 * Reading one value, audited (`secret.read`). Behind `rotor get` only: no API endpoint
 * returns a secret value (SPEC).
 */
import type { RotorConfig } from '../config/schema.js';
import { readVersion, valueAccess } from '../engine/values.js';
import { NotFoundError, UsageError } from '../errors.js';
import { selectSecrets, withEngine } from './engine.js';

export interface ReadRequest {
  config: RotorConfig;
  id: string;
  /** current, previous or pending; ignored when `version` is given. */
  stage: string;
  version: number | undefined;
  /** One field of a structured value. */
  field: string | undefined;
}

/** The value as text: a string as is, a structured value (or field) as JSON. */
export async function readSecretValue(req: ReadRequest): Promise<string> {
  const [secret] = selectSecrets(req.config, [req.id]);
  return withEngine(req.config, async (engine) => {
    const row = req.version !== undefined
      ? await engine.state.version(secret!.id, req.version)
      : (await engine.state.liveVersions(secret!.id)).filter((v) => v.stage === req.stage).pop();
    if (!row) throw new NotFoundError(`${secret!.id} has no ${req.version !== undefined ? `version ${req.version}` : `${req.stage} version`}`, 'see `rotor history ' + secret!.id + '`');
    const { deps } = engine;
    const value = await readVersion(valueAccess(deps, secret!), row);
    let out: string;
    if (req.field !== undefined) {
      if (typeof value === 'string' || !Object.hasOwn(value, req.field)) {
        throw new UsageError(`${secret!.id} has no field "${req.field}"`, typeof value === 'string' ? 'this value is a plain string: drop --field' : `fields: ${Object.keys(value).join(', ')}`);
      }
      const field = value[req.field];
      out = typeof field === 'string' ? field : JSON.stringify(field);
    } else {
      out = typeof value === 'string' ? value : JSON.stringify(value);
    }
    await engine.state.commit([
      {
        kind: 'audit',
        event: {
          at: Date.now(), actor: deps.actor, action: 'secret.read', secretId: secret!.id, version: row.version, rotationId: null,
          outcome: 'info', reason: null, incident: null, detail: req.field ? `field ${req.field}` : null,
        },
      },
    ]);
    return out;
  });
}
