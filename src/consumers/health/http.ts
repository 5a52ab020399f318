/** `health: [{ http: URL }]`: the answer must have `status` (200) and, when given, a body matching `body`. */
import { z } from 'zod';
import { timed, type ConsumerActionKind } from '../kinds.js';
import { withoutCredentials } from '../url-auth.js';

/** Compiled at load, so a typo is a config error (exit 2), not a failed rotation. */
const regexSchema = z.string().max(1000).refine((text) => {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

export const httpHealthSchema = z.strictObject({
  http: z.url(),
  status: z.number().int().min(100).max(599).default(200),
  body: regexSchema.optional().describe('a regular expression the body must match'),
  ...timed(3),
});
export type HttpHealthStep = z.infer<typeof httpHealthSchema>;

export const httpHealth = {
  schema: httpHealthSchema,
  async run({ step, timeoutMs }) {
    const { url, headers, shown } = withoutCredentials(step.http);
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    if (res.status !== step.status) throw new Error(`${shown} answered ${res.status}, expected ${step.status}`);
    if (step.body !== undefined && !new RegExp(step.body).test(body)) throw new Error(`${shown} body does not match /${step.body}/`);
    return `${shown}: ${res.status}`;
  },
} satisfies ConsumerActionKind<HttpHealthStep>;
