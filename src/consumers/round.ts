/**
 * A round of propagate: the secrets of one run that share consumers hand their new values
 * to a round, and the round walks the consumers in one order — for each, deliver every
 * member's value, then reload the service once and check its health once. A consumer of
 * three secrets rotated together restarts once, not three times.
 *
 * A member fails when its delivery fails or a consumer it uses fails to reload or stay
 * healthy; the others go on. Every member learns its own result: the lines of what was
 * done for it, or the ConsumerError that its rotation rolls back on.
 *
 * A round runs when every expected member has arrived or said it will not come (its
 * rotation failed earlier, was skipped or refused); see engine/propagation.ts.
 */
import type { ConsumerConfig, RotorConfig } from '../config/schema.js';
import { isDeliveryTargetConfig, openDeliveryTarget } from '../delivery/registry.js';
import type { SecretValue } from '../rotators/types.js';
import { Redactor } from '../engine/redact.js';
import type { DeliveryBackups } from '../fs/safe-replace.js';
import { ConsumerError, deliver, deliveriesFor, health, reload, type CommandInput } from './actions.js';
import { textOf } from './fields.js';

export interface RoundMember {
  secretId: string;
  /** The secret's consumers, in its order. */
  consumers: string[];
  /** What consumers are given as the current value (a key set already without retired keys). */
  value: SecretValue;
  /**
   * The previous version's value while it is in its grace period: what `stage: previous`
   * deliveries and `{{ previous.… }}` placeholders get. Null (or omitted) when there is
   * none — first rotation, no grace, retired — and they get an empty string.
   */
  previous?: SecretValue | null;
  /** The version `value` is, for ROTOR_SECRETS / ROTOR_VERSION. */
  version: number;
}

interface Arrival extends RoundMember {
  lines: string[];
  failure?: unknown;
  /** A delivery for this member changed a file at a consumer earlier in the round. */
  changedFiles: boolean;
  /** What deliveries for this member put into delivery targets so far in the round. */
  texts: string[];
  settle: { resolve: (detail: string) => void; reject: (err: unknown) => void };
}

export class ReloadRound {
  private readonly waiting: Set<string>;
  private readonly arrivals: Arrival[] = [];
  private started = false;

  /**
   * @param order every consumer name, in the one order of the config (consumers/order.ts)
   * @param restoring the rollback's re-delivery of previous values: a consumer still
   *   unhealthy on a value that worked before the rotation is reported, not a failure
   * @param onFailed told which members failed, before any member hears its result, so
   *   their rollbacks can be gathered into a round of their own
   * @param onlyIfChanged reload and check a consumer only when it holds something new
   *   (retire's re-delivery without the retired key or previous value): when a delivery
   *   changed one of its files, or — for a consumer with no deliveries of its own for a
   *   member, fed through another's (a Deployment restarted after its ExternalSecret file
   *   changed) — when a delivery of that member changed a file at an earlier consumer
   * @param backups keeps a sealed copy of what each delivery replaces (none without it)
   */
  constructor(
    private readonly config: RotorConfig,
    private readonly order: string[],
    expected: Iterable<string>,
    private readonly opts: { restoring?: boolean; onlyIfChanged?: boolean; onFailed?: (secretIds: string[]) => void; backups?: DeliveryBackups } = {},
  ) {
    this.waiting = new Set(expected);
  }

  /** Hands a member's value to the round; settles once the round has run its consumers. */
  arrive(member: RoundMember): Promise<string> {
    const result = new Promise<string>((resolve, reject) => {
      this.arrivals.push({ ...member, lines: [], changedFiles: false, texts: [], settle: { resolve, reject } });
    });
    this.waiting.delete(member.secretId);
    this.startIfComplete();
    return result;
  }

  /** An expected member that will not arrive. */
  leave(secretId: string): void {
    if (this.waiting.delete(secretId)) this.startIfComplete();
  }

  private startIfComplete(): void {
    if (this.started || this.waiting.size) return;
    this.started = true;
    void this.run().then(
      () => {
        const failed = this.arrivals.filter((a) => a.failure !== undefined);
        if (failed.length) this.opts.onFailed?.(failed.map((a) => a.secretId));
        for (const a of this.arrivals) {
          if (a.failure === undefined) a.settle.resolve(a.lines.join('; '));
          else a.settle.reject(a.failure);
        }
      },
      (err: unknown) => {
        // Only a bug gets here; every member must still hear back.
        this.opts.onFailed?.(this.arrivals.map((a) => a.secretId));
        for (const a of this.arrivals) a.settle.reject(err);
      },
    );
  }

  private async run(): Promise<void> {
    for (const name of this.order) {
      const consumer = this.config.consumers[name];
      if (!consumer) continue;
      let members = this.arrivals.filter((a) => a.failure === undefined && a.consumers.includes(name));
      let changed = false;
      // Read before this consumer's deliveries count: it is fed by *earlier* consumers.
      const fedByEarlier = members.some((m) => m.changedFiles && !deliveriesFor(consumer, m.secretId).length);
      const deliveredHere: string[] = [];
      for (const m of members) {
        try {
          const delivered = await deliver(this.config, name, consumer, { secretId: m.secretId, value: m.value, previous: m.previous ?? null }, {
            backups: this.opts.backups, restoring: this.opts.restoring,
          });
          m.lines.push(...delivered.lines.map((l) => `${name}: ${l}`));
          changed ||= delivered.changed;
          m.changedFiles ||= delivered.changed;
          m.texts.push(...delivered.texts);
          deliveredHere.push(...delivered.texts);
        } catch (err) {
          m.failure = err;
        }
      }
      members = members.filter((m) => m.failure === undefined);
      if (!members.length || (this.opts.onlyIfChanged && !changed && !fedByEarlier)) continue;

      const shared = members.length > 1 ? ` (once for ${members.map((m) => m.secretId).join(', ')})` : '';
      const say = (line: string) => members.forEach((m) => m.lines.push(`${name}: ${line}${shared}`));
      try {
        // A consumer fed through earlier consumers' deliveries (an ExternalSecret reading what
        // was delivered to Secrets Manager) waits for what those delivered.
        const delivered = deliveredHere.length ? deliveredHere : members.flatMap((m) => m.texts);
        const input = { ...commandInput(members, await deliveredValues(this.config, consumer)), delivered };
        for (const r of consumer.reload) say(await reload(this.config, name, r, input));
        for (const h of consumer.health) {
          try {
            say(await health(this.config, name, h, input));
          } catch (err) {
            if (!this.opts.restoring) throw err;
            say(`still unhealthy on the previous value: ${(err as Error).message}`);
          }
        }
      } catch (err) {
        for (const m of members) m.failure = err instanceof ConsumerError ? err : new ConsumerError(name, (err as Error).message);
      }
    }
  }
}

/**
 * Every value the consumer's files hold now, for any secret: a command may print a file it
 * reads (`cat .env`), and the other secrets in it are not part of this run.
 */
async function deliveredValues(config: RotorConfig, consumer: ConsumerConfig): Promise<string[]> {
  // Keys by store, so each file is opened once however many keys it holds.
  const keysOf = new Map<string, string[]>();
  for (const d of consumer.deliver) if ('store' in d) keysOf.set(d.store, [...(keysOf.get(d.store) ?? []), d.key]);
  const out: string[] = [];
  for (const [name, keys] of keysOf) {
    const store = config.stores[name];
    if (!store || !isDeliveryTargetConfig(store)) continue;
    try {
      const target = await openDeliveryTarget(store);
      for (const key of keys) {
        const value = await target.read(key);
        if (value) out.push(value);
      }
    } catch {
      // Unreadable now: nothing of it can be printed from here either.
    }
  }
  return out;
}

/**
 * What reload and health commands are given: with one secret, its value on stdin and
 * ROTOR_SECRET_ID / ROTOR_VERSION; with several, a JSON object of id → value on stdin.
 * ROTOR_SECRETS always lists `id@version` of every secret the reload is for. Values never
 * go into the environment or argv, and are cut out of whatever the commands print.
 */
function commandInput(members: RoundMember[], alsoSecret: string[]): CommandInput {
  const redactor = new Redactor();
  for (const m of members) {
    redactor.register(m.value);
    if (m.previous) redactor.register(m.previous);
  }
  for (const v of alsoSecret) redactor.register(v);
  const redact = (text: string) => redactor.redact(text);
  const env: NodeJS.ProcessEnv = { ROTOR_SECRETS: members.map((m) => `${m.secretId}@${m.version}`).join(',') };
  if (members.length === 1) {
    const [m] = members as [RoundMember];
    return { stdin: textOf(m.value), env: { ...env, ROTOR_SECRET_ID: m.secretId, ROTOR_VERSION: String(m.version) }, redact };
  }
  return { stdin: JSON.stringify(Object.fromEntries(members.map((m) => [m.secretId, textOf(m.value)]))), env, redact };
}
