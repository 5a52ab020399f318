/**
 * Fault injection for tests: ROTOR_CRASH_AT=<step>:<before|after> kills this process with
 * SIGKILL just before the step acts, or just after it acted and before its completion is
 * recorded. SIGKILL cannot be caught, so nothing gets a chance to tidy up — exactly the
 * situation `rotor resume` must handle. `rollback:before|after` kills a rollback after it
 * is recorded as started, and after it acted but before it is recorded as done.
 */
import { STEPS, type Step } from '../state/types.js';
import { UsageError } from '../errors.js';

export type CrashPoint = (step: Step | 'rollback', when: 'before' | 'after') => void;

export function crashPointFrom(env: NodeJS.ProcessEnv): CrashPoint {
  const spec = env.ROTOR_CRASH_AT;
  if (!spec) return () => {};
  const [step, when] = spec.split(':');
  if (![...STEPS, 'rollback'].includes(step as Step) || (when !== 'before' && when !== 'after')) {
    throw new UsageError(`ROTOR_CRASH_AT=${spec} is not <step>:<before|after>`, `steps: ${STEPS.join(', ')}, rollback`);
  }
  return (s, w) => {
    if (s === step && w === when) process.kill(process.pid, 'SIGKILL');
  };
}
