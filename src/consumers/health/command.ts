/** `health: [{ command: … }]`: a command that must exit 0, given the values as reload commands are. */
import { z } from 'zod';
import { commandSchema, timed, type ConsumerActionKind } from '../kinds.js';

export const commandHealthSchema = z.strictObject({ command: commandSchema, shell: z.boolean().default(false), ...timed(3) });
export type CommandHealthStep = z.infer<typeof commandHealthSchema>;

export const commandHealth = {
  schema: commandHealthSchema,
  async run({ step, config, input, timeoutMs }) {
    const { describeCommand, runCommand } = await import('../run-command.js');
    const r = await runCommand(step.command, { shell: step.shell, stdin: input.stdin, timeoutMs, env: input.env, strip: config.targetEnv, redact: input.redact, cwd: config.dir });
    if (r.timedOut || r.code !== 0) throw new Error(`\`${describeCommand(step.command)}\` ${r.timedOut ? `did not finish within ${step.timeout}` : `exited ${r.code ?? r.signal}`}`);
    return `\`${describeCommand(step.command)}\` ok`;
  },
} satisfies ConsumerActionKind<CommandHealthStep>;
