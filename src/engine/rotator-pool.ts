/**
 * One rotator per type for the length of a command, loaded on first use and closed at the
 * end (rotators hold admin connections). The runner and `rotor plan` both take theirs here,
 * wrapped once in what every rotator gets from outside — redaction, timing, step timeouts
 * (rotator-wrap.ts) — so no caller can reach an unwrapped one.
 */
import type { RotorConfig, SecretConfig } from '../config/schema.js';
import type { AnyRotatorDefinition, PreflightRequest } from '../rotators/types.js';
import type { AnyRotator } from './context.js';
import type { Redactor } from './redact.js';
import { wrapRotator, type RotatorCall } from './rotator-wrap.js';

export interface PoolOptions {
  redactor?: Redactor;
  /** Told each rotator call's duration (the engine's `timing` events). */
  onCall?: (call: RotatorCall) => void;
}

export class RotatorPool {
  private readonly rotators = new Map<string, Promise<AnyRotator>>();

  constructor(private readonly config: RotorConfig, private readonly now: () => number, private readonly opts: PoolOptions = {}) {}

  get(definition: AnyRotatorDefinition): Promise<AnyRotator> {
    let rotator = this.rotators.get(definition.type);
    if (!rotator) {
      rotator = definition.load().then((factory) =>
        wrapRotator(factory({ now: this.now, baseDir: this.config.dir, hookEnvDeny: this.config.targetEnv }), { config: this.config, waits: (spec) => definition.waits?.(spec), ...this.opts }),
      );
      this.rotators.set(definition.type, rotator);
    }
    return rotator;
  }

  async close(): Promise<void> {
    for (const r of this.rotators.values()) await (await r).close().catch(() => {});
    this.rotators.clear();
  }
}

/** The fields every rotator request carries for `secret`. */
export function requestFor(config: RotorConfig, secret: SecretConfig, signal: AbortSignal): PreflightRequest<unknown> {
  const target = secret.target === undefined ? undefined : { name: secret.target, ...config.targets[secret.target]! };
  return { secretId: secret.id, spec: secret.spec, target, signal };
}
