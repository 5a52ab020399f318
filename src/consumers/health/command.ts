/** `health: [{ command: … }]`: a command that must exit 0, given the values as reload commands are. */
import { z } from 'zod';
import { commandSchema, timed, type ConsumerActionKind } from '../kinds.js';

export const commandHealthSchema = z.strictObject({ command: commandSchema, shell: z.boolean().default(false), ...timed(3) });
export type CommandHealthStep = z.infer<typeof commandHealthSchema>;

export const commandHealth = {
  schema: commandHealthSchema,
  async run({ step, config, input, timeoutMs }) {
    const { runConsumerCommand } = await import('../run-command.js');
    return `${await runConsumerCommand(step, config, input, { timeoutMs, showOutput: false })} ok`;
  },
} satisfies ConsumerActionKind<CommandHealthStep>;
