/**
 * How the propagate step of each secret in a batch reaches its consumers: secrets that
 * share a consumer meet in one reload round (consumers/round.ts), so the consumer reloads
 * once for all of them; their rollbacks meet in a round of their own.
 *
 * Who meets whom is fixed before the batch starts, so nobody waits for a secret that is
 * itself waiting on them:
 * - a secret meets only secrets of its own *wave* (how many `after` links lead to it in
 *   this batch): one it rotates after has finished before it starts, so they cannot share
 *   a reload — that is what `after` asks for;
 * - within a wave, only secrets linked through shared consumers meet;
 * - a secret that will not reach propagate (failed earlier, skipped, refused, busy) leaves
 *   its round, and the round runs with those that came;
 * - a secret waiting in a round gives its concurrency slot back (engine/slots.ts).
 *
 * The protocol a member follows, so that no round waits for someone who will not come:
 * - `forward` (propagate) arrives at the member's round with its value and waits; the round
 *   runs when every expected member has arrived or left, delivers to each consumer, reloads
 *   it once and checks it, then tells each member its own result;
 * - `skipForward`: the member will not reach propagate (a step before it failed, or the run
 *   was interrupted) — called first thing by rollback and by an interrupt;
 * - members that failed in a round are gathered into a restore round of their own
 *   (`onFailed`), so their rollbacks re-deliver the previous values with one reload again;
 *   `restore` arrives there, and `skipRestore` says the member's rollback re-delivers nothing;
 * - `leave` (the batch, when a member's outcome is known, however it ended) does both skips,
 *   covering members that were busy, skipped, refused or threw outside the steps.
 * Leaving twice, or leaving a round already run, is harmless.
 *
 * Records: propagate's `done` record, like every step's, is deferred to the run's next
 * commit (engine/journal.ts); the round's result is what that record says.
 */
import type { RotorConfig, SecretConfig } from '../config/schema.js';
import { consumerOrder } from '../consumers/order.js';
import { ReloadRound } from '../consumers/round.js';
import type { DeliveryBackups } from '../fs/safe-replace.js';
import type { SecretValue } from '../rotators/types.js';
import type { Slots } from './slots.js';

/** What a secret hands its consumers: the value, its version, and the value still in grace (or null). */
export interface Handover {
  value: SecretValue;
  version: number;
  /** What `stage: previous` deliveries get; null when nothing is in grace. */
  previous: SecretValue | null;
}

export interface Propagation {
  /** propagate: delivers the new value to the secret's consumers, reloads and checks them. */
  forward(secret: SecretConfig, handover: Handover): Promise<string>;
  /** The rollback's re-delivery of the previous value. */
  restore(secret: SecretConfig, handover: Handover): Promise<string>;
  /**
   * Retire's re-delivery of the current value without the retired key or previous value;
   * a consumer is reloaded when its files changed (or it is fed by one that did), unless
   * `always` (a retire being retried, whose first attempt may have written the files and
   * failed before the reload).
   */
  refresh(secret: SecretConfig, handover: Handover, opts: { always: boolean }): Promise<string>;
  /** The secret will not reach propagate in this run (its rotation failed before it). */
  skipForward(secretId: string): void;
  /** The secret's rollback will not re-deliver. */
  skipRestore(secretId: string): void;
}

const orders = new WeakMap<RotorConfig, string[]>();

/** The one consumer order of a config; rules refuse configs without one. */
function orderOf(config: RotorConfig): string[] {
  let order = orders.get(config);
  if (!order) {
    const found = consumerOrder(Object.keys(config.consumers), config.secrets);
    order = found.ok ? found.order : Object.keys(config.consumers);
    orders.set(config, order);
  }
  return order;
}

/**
 * Each secret on its own: for a single rotation, `rotor rollback`, and outside batches.
 * `backups` keeps a sealed copy of what each delivery replaces (EngineDeps.deliveryBackups).
 */
export function soloPropagation(config: RotorConfig, backups?: DeliveryBackups): Propagation {
  const alone = (opts: { restoring?: boolean; onlyIfChanged?: boolean }) => (secret: SecretConfig, h: Handover) =>
    new ReloadRound(config, orderOf(config), [secret.id], { ...opts, backups }).arrive({ secretId: secret.id, consumers: secret.consumers, ...h });
  return {
    forward: alone({}),
    restore: alone({ restoring: true }),
    refresh: (secret, h, { always }) => alone({ onlyIfChanged: !always })(secret, h),
    skipForward: () => {},
    skipRestore: () => {},
  };
}

export class BatchPropagation implements Propagation {
  private readonly forwardRound = new Map<string, ReloadRound>();
  private readonly restoreRound = new Map<string, ReloadRound>();
  private readonly solo: Propagation;

  /** @param secrets the batch in planner order (every `after` dependency before its dependants) */
  constructor(private readonly config: RotorConfig, secrets: SecretConfig[], private readonly slots: Slots, private readonly backups?: DeliveryBackups) {
    this.solo = soloPropagation(config, backups);
    for (const group of meetingGroups(secrets)) {
      const round = new ReloadRound(config, orderOf(config), group, { onFailed: (failed) => this.gatherRollbacks(failed), backups });
      for (const id of group) this.forwardRound.set(id, round);
    }
  }

  forward(secret: SecretConfig, h: Handover): Promise<string> {
    return this.meet(this.forwardRound, secret, h) ?? this.solo.forward(secret, h);
  }

  restore(secret: SecretConfig, h: Handover): Promise<string> {
    return this.meet(this.restoreRound, secret, h) ?? this.solo.restore(secret, h);
  }

  refresh(secret: SecretConfig, h: Handover, opts: { always: boolean }): Promise<string> {
    return this.solo.refresh(secret, h, opts);
  }

  skipForward(secretId: string): void {
    this.forwardRound.get(secretId)?.leave(secretId);
    this.forwardRound.delete(secretId);
  }

  skipRestore(secretId: string): void {
    this.restoreRound.get(secretId)?.leave(secretId);
    this.restoreRound.delete(secretId);
  }

  /** The secret is done with this batch, however it ended. */
  leave(secretId: string): void {
    this.skipForward(secretId);
    this.skipRestore(secretId);
  }

  /** Joins the secret's round, if it has one in `rounds` (once), holding no slot while it waits. */
  private meet(rounds: Map<string, ReloadRound>, secret: SecretConfig, h: Handover): Promise<string> | undefined {
    const round = rounds.get(secret.id);
    if (!round) return undefined;
    rounds.delete(secret.id);
    this.slots.release();
    return round.arrive({ secretId: secret.id, consumers: secret.consumers, ...h }).finally(() => this.slots.acquire());
  }

  /** Members that failed in one round roll back together: one reload per consumer again. */
  private gatherRollbacks(failed: string[]): void {
    const round = new ReloadRound(this.config, orderOf(this.config), failed, { restoring: true, backups: this.backups });
    for (const id of failed) this.restoreRound.set(id, round);
  }
}

/**
 * The secrets that meet in one round: same wave, linked through shared consumers. Secrets
 * without consumers meet nobody.
 */
export function meetingGroups(secrets: SecretConfig[]): string[][] {
  const inBatch = new Set(secrets.map((s) => s.id));
  const wave = new Map<string, number>();
  for (const s of secrets) wave.set(s.id, Math.max(-1, ...s.after.filter((d) => inBatch.has(d)).map((d) => wave.get(d) ?? 0)) + 1);

  const parent = new Map<string, string>();
  const find = (id: string): string => {
    const p = parent.get(id) ?? id;
    if (p === id) return id;
    const root = find(p);
    parent.set(id, root);
    return root;
  };
  const firstUser = new Map<string, string>(); // `${wave}\0${consumer}` → a secret
  for (const s of secrets) {
    for (const c of s.consumers) {
      const key = `${wave.get(s.id)}\0${c}`;
      const other = firstUser.get(key);
      if (other === undefined) firstUser.set(key, s.id);
      else parent.set(find(s.id), find(other));
    }
  }
  const groups = new Map<string, string[]>();
  for (const s of secrets) {
    if (!s.consumers.length) continue;
    const root = find(s.id);
    groups.set(root, [...(groups.get(root) ?? []), s.id]);
  }
  return [...groups.values()];
}
