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
    const { runConsumerCommand } = await import('../run-command.js');
    return `ran ${await runConsumerCommand(step, config, input, { timeoutMs, showOutput: true })}`;
  },
} satisfies ConsumerActionKind<CommandReloadStep>;
