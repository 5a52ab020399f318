/**
 * The shapes a conformance line is made of (see ../conformance.ts): how to reach a target,
 * prepare a login on it, and ask it what it accepts.
 */
import type { RotatorType } from '../../../src/rotators/registry.js';
import type { Json, SecretValue } from '../../../src/rotators/types.js';

/** The id of the one secret each test's rotor.yaml holds. */
export const ID = 'conf/s';

/** Where a probe looks: the directory of rotor.yaml (published and delivered files live there). */
export interface Ctx {
  dir: string;
  /** Whether a consumer is given the value in delivered.json (not in the in-process tests, nor in g). */
  delivered: boolean;
}

/** How to ask a line's target what it accepts. */
export interface Probe<V> {
  /** Does the target accept `value` now? Undefined when the type has no target to ask. */
  accepts(ctx: Ctx, value: V): Promise<boolean | undefined>;
  /** Credentials the target accepts for the login that no value in `stored` explains, named for the failure message. */
  unexplained(ctx: Ctx, login: string, stored: V[]): Promise<string[]>;
  /** The target's state for the login, compared before and after a repeated call. */
  snapshot(ctx: Ctx, login: string): Promise<unknown>;
}

/** A credential that was in use before Rotor managed the secret. */
export interface Existing<V> {
  /** What `rotor adopt` reads on stdin: a bare password, a raw string, or the whole value as JSON. */
  input: string;
  /** The same credential as a whole value, to ask the target about. */
  value: V;
  /** Something `rotor adopt` must refuse (exit 2, nothing stored): refused at the target, or not of the type. */
  refused?: string;
}

export interface ConformanceLine<V extends SecretValue = SecretValue> {
  name: string;
  type: RotatorType;
  /** The type's fields of the secret in rotor.yaml. */
  fields(login: string): Record<string, Json>;
  target?: { type: 'postgres' | 'mysql' | 'redis'; url(): string };
  /** The login one test uses; tests run concurrently, so each gets its own unless the strategy has one fixed login. */
  login(tag: string): string;
  /** Every test touches the same login (requirepass: `default`): run this line's tests one at a time. */
  exclusive?: boolean;
  /** The strategy replaces the password in place: the previous value stops working at apply. */
  inPlace?: boolean;
  /** Consumers hold the value (a keyring): the CLI tests deliver it into delivered.json, which the probe reads. */
  delivers?: boolean;
  /** Makes the login exist with no credential at all. */
  clean(ctx: Ctx, login: string): Promise<void>;
  /** Makes a credential as it was before Rotor. */
  existing(ctx: Ctx, login: string): Promise<Existing<V>>;
  probe: Probe<V>;
  /** The secret parts of a value, searched for in outputs and files. */
  secretsOf(value: V): string[];
  /** Why this line cannot run here. */
  skip?: string;
  /** Keep the versions in another version store than the local vault (conformance/aws-store.ts). */
  versionStore?: VersionStoreLine;
}

/** A version store a line's secret keeps its versions in, and how to read what it serves as current. */
export interface VersionStoreLine {
  /** Its `stores:` entry as a YAML flow map, for the rotor.yaml of the test using `login` (each test its own login). */
  entry(login: string): string;
  /** Variables rotor needs to reach it (credentials, endpoint). */
  env(): Record<string, string>;
  /** What the store serves as the secret's current value (AWSCURRENT), or undefined when it holds none. */
  current(login: string, secretId: string): Promise<string | undefined>;
}

export interface Stored<V> {
  version: number;
  stage: string;
  value: V;
}
