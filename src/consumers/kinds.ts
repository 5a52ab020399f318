/**
 * The contract of a consumer's reload and health kinds (`{ command: … }`, `{ http: … }`,
 * `{ signal: … }`, `{ tcp: … }`): each is one file under reload/ or health/ with its schema
 * and one attempt's `run`, listed in that folder's registry. actions.ts wraps every kind
 * from outside: retries, the interval between attempts, and the ConsumerError a failure
 * becomes.
 */
import { z } from 'zod';
import { durationSchema } from '../config/common.js';
import type { RotorConfig } from '../config/schema.js';

/**
 * What reload and health commands are given: the values on stdin, ROTOR_* variables, and a
 * redactor for the values they were given (their output may echo them).
 */
export interface CommandInput {
  stdin: string;
  env: NodeJS.ProcessEnv;
  redact: (text: string) => string;
  /**
   * The texts this round delivered for the consumer (or, for a consumer fed through
   * another's deliveries, at the consumers before it): what a step that waits for a value
   * to arrive downstream (an ExternalSecret's target Secret) compares against.
   */
  delivered?: readonly string[];
}

/** The fields every step has: actions.ts reads them to retry. */
export interface TimedStep {
  timeout: string;
  retries: number;
  interval: string;
}

export interface ActionRequest<Step> {
  step: Step;
  config: RotorConfig;
  input: CommandInput;
  /** This attempt's time limit (the step's `timeout`). */
  timeoutMs: number;
}

/**
 * One kind of reload or health step. The kind is named by the key that holds its main
 * field (`{ http: https://… }`), which is also its key in the registry.
 */
export interface ConsumerActionKind<Step extends TimedStep> {
  /** Its entry in `reload` or `health`; a strict object holding the kind's own key. */
  schema: z.ZodType<Step>;
  /**
   * A problem the schema cannot express, found on the raw step (rules.ts runs it whatever
   * else is wrong with the file, so it is reported beside schema errors).
   */
  check?(raw: Record<string, unknown>): string | undefined;
  /**
   * Health kinds only: run again just before retire revokes the previous value (a
   * Prometheus query over the consumers' own error rates). Kinds that probe an endpoint
   * need not: propagate already proved it on the new value.
   */
  recheckBeforeRetire?: boolean;
  /**
   * Optional: proves, touching nothing, that the step will be allowed to run (a Kubernetes
   * step's RBAC). Runs at `rotor plan` and before a rotation's `create`, so a missing
   * permission refuses the rotation before anything changes; throws a RotorError whose
   * outcome is `usage` for what a person must grant.
   */
  preflight?(req: { step: Step; config: RotorConfig }): Promise<void>;
  /** One attempt; throws an Error saying what went wrong. Returns the progress line. */
  run(req: ActionRequest<Step>): Promise<string>;
}

/** The key of the kind `step` is: the registry key it holds. */
export function kindOf<K extends string>(kinds: readonly K[], step: object): K {
  const kind = kinds.find((k) => Object.hasOwn(step, k));
  if (kind === undefined) throw new Error(`a step of no known kind (${kinds.join(', ')})`);
  return kind;
}

/** Attempts and the wait between them, with the default number of retries of the step's section. */
export const timed = (retries: number) => ({
  timeout: durationSchema.default('30s').describe('give up on one attempt after this long'),
  retries: z.number().int().min(0).max(100).default(retries).describe('attempts after the first'),
  interval: durationSchema.default('1s').describe('wait between attempts'),
});

export const commandSchema = z
  .union([z.string().min(1).max(4096), z.array(z.string().max(4096)).min(1).max(100)])
  .describe('argv as a list (run without a shell), or one string (split on spaces, or run by /bin/sh with shell: true)');
