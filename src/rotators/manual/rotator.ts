/**
 * `manual`: a value Rotor cannot generate or revoke — a provider issues it. `rotor set`
 * hands the new value in (or `rotate.command` fetches it); verify asks the provider through
 * `verify.command` when there is one; retire cannot revoke at the provider, so it says so
 * and names what a person must do instead of pretending.
 */
import { parseDuration } from '../../config/duration.js';
import { describeCommand, runCommand } from '../../consumers/run-command.js';
import { RotorError } from '../../errors.js';
import type { Rotator, RotatorDeps } from '../types.js';
import type { ManualSpec } from './schema.js';

const ms = (d: string) => parseDuration(d) ?? 60_000;

export function createManualRotator(deps: RotatorDeps) {
  return {
    async preflight({ spec, supplied }) {
      if (!supplied && !spec.rotate) {
        throw new RotorError('a manual secret gets its new value from the provider', {
          outcome: 'usage',
          hint: 'obtain a new value from the provider and pipe it to `rotor set <id>`, or give the secret `rotate: { command }` that prints one',
        });
      }
      return { notes: spec.verify ? [] : ['no verify command: the provider is not asked whether the new value works'] };
    },

    async generate({ spec, signal }) {
      if (!spec.rotate) throw new RotorError('a manual secret gets its new value from the provider', { outcome: 'usage', hint: 'pipe it to `rotor set <id>`' });
      // The value arrives on the command's stdout; its stderr and exit status never carry it.
      const r = await runCommand(spec.rotate.command, { shell: false, stdin: '', timeoutMs: ms(spec.rotate.timeout), cwd: deps.baseDir, stdout: true, strip: deps.hookEnvDeny, signal });
      const what = `\`${describeCommand(spec.rotate.command)}\``;
      if (r.timedOut) throw new RotorError(`${what} did not finish within ${spec.rotate.timeout}`, { outcome: 'rolled-back' });
      if (r.code !== 0) throw new RotorError(`${what} exited ${r.code ?? r.signal}`, { outcome: 'rolled-back', hint: 'run it by hand to see why; nothing was changed' });
      const value = (r.stdout ?? '').replace(/\r?\n$/, '');
      if (!value) throw new RotorError(`${what} printed no value`, { outcome: 'rolled-back' });
      return { value };
    },

    async apply() {
      return { detail: 'issued by the provider: nothing to apply' };
    },

    async verify({ spec, value, signal }) {
      if (!spec.verify) return { detail: 'no verify command' };
      const r = await runCommand(spec.verify.command, { shell: false, stdin: value, timeoutMs: ms(spec.verify.timeout), cwd: deps.baseDir, strip: deps.hookEnvDeny, signal });
      const what = `\`${describeCommand(spec.verify.command)}\``;
      if (r.timedOut) throw new RotorError(`${what} did not finish within ${spec.verify.timeout}`, { outcome: 'rolled-back' });
      // Its output is not quoted: a provider's error may echo the key it was given.
      if (r.code !== 0) throw new RotorError(`the provider refused the new value: ${what} exited ${r.code ?? r.signal}`, { outcome: 'rolled-back' });
      return { detail: `${what} accepted the value` };
    },

    async undoApply() {
      return { detail: 'nothing was applied' };
    },

    async retire({ spec, retiring }) {
      if (!retiring) return { detail: 'no earlier value stored: if the provider issued one before Rotor, revoke it there' };
      return { detail: `reminder: revoke the old value at the provider${spec.revoke ? ` (${spec.revoke})` : ''}: Rotor cannot` };
    },

    async checkRejected() {
      // Nothing to ask: the provider is out of reach. The reminder above is the record.
      return { rejected: true, detail: 'not checked: only the provider knows whether the old value still works' };
    },

    async close() {},
  } satisfies Rotator<ManualSpec, string>;
}
