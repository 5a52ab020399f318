/** rotor.yaml fields of a `manual` secret: a value only a provider can issue (an API key of OpenAI, SendGrid, Sentry). */
import { z } from 'zod';
import { durationSchema } from '../../config/schema.js';

const commandSchema = z
  .union([z.string().min(1).max(4096), z.array(z.string().min(1).max(4096)).min(1).max(100)])
  .describe('argv as a list (run without a shell), or one string split on spaces');

const hookSchema = z.strictObject({
  command: commandSchema,
  timeout: durationSchema.default('60s').describe('give up after this long'),
});

export const manualSpecSchema = z
  .strictObject({
    verify: hookSchema
      .optional()
      .describe('checks a value at the provider: gets it on stdin, exits 0 when the provider accepts it'),
    rotate: hookSchema
      .optional()
      .describe('obtains a new value from the provider: prints it on stdout (without it, `rotor set` supplies the value)'),
    revoke: z
      .string()
      .max(500)
      .optional()
      .describe('where and how a person revokes an old value, shown when grace ends (e.g. "OpenAI dashboard → API keys")'),
  })
  .describe('a value issued by a provider: `rotor set` (or `rotate.command`) supplies it; retire reminds you to revoke the old one');

export type ManualSpec = z.infer<typeof manualSpecSchema>;

export const manualValueSchema = z.string().min(1).max(65536);
