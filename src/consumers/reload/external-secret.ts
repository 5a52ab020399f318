/**
 * `reload: [{ externalSecret: { namespace, name } }]`: makes External Secrets Operator sync
 * an ExternalSecret now (a new `force-sync` annotation, as `kubectl annotate es NAME
 * force-sync=$(date +%s) --overwrite`), then waits until its target Secret really holds
 * what this round delivered upstream (to AWS Secrets Manager, say). The operator's refresh
 * time says only that it ran, not what it read — a sync can read a stale replica or fail a
 * key — so the wait compares fingerprints of the values, within `timeout`.
 *
 * A delivered value counts as arrived when some key of the Secret holds it, or, for a
 * structured value delivered whole (JSON) and split by `dataFrom: extract`, when every one
 * of its top-level fields is held by some key.
 *
 * @example
 * reload:
 *   - externalSecret: { namespace: apps, name: api-db }
 *     timeout: 2m
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { durationSchema } from '../../config/common.js';
import { connectionFields, objectName } from '../../kubernetes/schema.js';
import { type ConsumerActionKind } from '../kinds.js';

export const externalSecretSchema = z.strictObject({
  externalSecret: z.strictObject({
    namespace: objectName,
    name: objectName.describe("the ExternalSecret's name"),
    apiVersion: z.enum(['v1beta1', 'v1']).default('v1beta1').describe('the external-secrets.io version the cluster serves'),
    ...connectionFields,
  }),
  timeout: durationSchema.default('2m').describe('how long the operator may take to bring the new value into the Secret'),
  retries: z.number().int().min(0).max(100).default(0).describe('attempts after the first (each forces a new sync)'),
  interval: durationSchema.default('1s').describe('wait between attempts'),
});
export type ExternalSecretStep = z.infer<typeof externalSecretSchema>;

const GROUP = 'external-secrets.io';
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const fingerprint = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export const externalSecretReload = {
  schema: externalSecretSchema,
  async preflight({ step, config }) {
    const [{ connect }, { requireAccess }, { targetOf }] = await Promise.all([import('../../kubernetes/api.js'), import('../../kubernetes/access.js'), import('../../kubernetes/external-secrets.js')]);
    const es = step.externalSecret;
    const kube = connect(es, config.dir);
    const purpose = `force a sync of ExternalSecret ${es.namespace}/${es.name} and wait for its Secret`;
    await requireAccess(kube, ['get', 'patch'].map((verb) => ({ verb, group: GROUP, resource: 'externalsecrets', namespace: es.namespace, name: es.name })), purpose);
    const target = await targetOf(kube, es);
    await requireAccess(kube, [{ verb: 'get', group: '', resource: 'secrets', namespace: es.namespace, name: target }], purpose);
  },
  async run({ step, config, input, timeoutMs }) {
    const [{ connect }, { targetOf, forceSync, secretValues, readyOf }] = await Promise.all([import('../../kubernetes/api.js'), import('../../kubernetes/external-secrets.js')]);
    const es = step.externalSecret;
    const kube = connect(es, config.dir);
    const target = await targetOf(kube, es);
    const started = Date.now();
    await forceSync(kube, es, String(started));
    const expected = [...new Set(input.delivered ?? [])].filter((t) => t !== '');
    const where = `ExternalSecret ${es.namespace}/${es.name}`;
    if (!expected.length) return `forced a sync of ${where} (nothing delivered in this round to wait for)`;
    const poll = Math.min(500, Math.max(50, timeoutMs / 100));
    for (;;) {
      const held = new Set(Object.values(await secretValues(kube, es.namespace, target)).map(fingerprint));
      if (expected.every((text) => arrived(text, held))) {
        return `${where} brought ${expected.length === 1 ? 'the new value' : `${expected.length} new values`} into Secret ${es.namespace}/${target} in ${((Date.now() - started) / 1000).toFixed(1)}s`;
      }
      if (Date.now() + poll > started + timeoutMs) {
        throw new Error(`${where} did not bring the new value into Secret ${es.namespace}/${target} within ${step.timeout} (the operator reports ${await readyOf(kube, es)})`);
      }
      await sleep(poll);
    }
  },
} satisfies ConsumerActionKind<ExternalSecretStep>;

/** Whether `text` is in the Secret: as one key's value, or as a JSON object every field of which is. */
function arrived(text: string, held: Set<string>): boolean {
  if (held.has(fingerprint(text))) return true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return false;
  const fields = Object.values(parsed as Record<string, unknown>).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return fields.length > 0 && fields.every((f) => held.has(fingerprint(f)));
}
