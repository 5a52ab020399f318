/**
 * `reload: [{ command: … }]`: run a command (argv, or a string) and require exit 0. It gets
 * the values on stdin and ROTOR_* variables, never the targets' admin URLs.
 */
import { z } from 'zod';
import { commandSchema, timed, type ConsumerActionKind } from '../kinds.js';

export const commandReloadSchema = z.strictObject({ command: commandSchema, shell: z.boolean().default(false), ...timed(0) });
export type CommandReloadStep = z.infer<typeof commandReloadSchema>;

export const commandReload = {
  schema: commandReloadSchema,
  async run({ step, config, input, timeoutMs }) {
    const { describeCommand, runCommand } = await import('../run-command.js');
    const r = await runCommand(step.command, { shell: step.shell, stdin: input.stdin, timeoutMs, env: input.env, strip: config.targetEnv, redact: input.redact, cwd: config.dir });
    if (r.timedOut) throw new Error(`\`${describeCommand(step.command)}\` did not finish within ${step.timeout}`);
    if (r.code !== 0) throw new Error(`\`${describeCommand(step.command)}\` exited ${r.code ?? r.signal}${r.output ? `: ${r.output.split('\n').slice(-3).join(' | ')}` : ''}`);
    return `ran \`${describeCommand(step.command)}\``;
  },
} satisfies ConsumerActionKind<CommandReloadStep>;
