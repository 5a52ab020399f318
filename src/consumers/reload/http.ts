/** `reload: [{ http: URL }]`: ask the service to reload over HTTP and require a 2xx answer. */
import { z } from 'zod';
import { timed, type ConsumerActionKind } from '../kinds.js';
import { withoutCredentials } from '../url-auth.js';

export const httpReloadSchema = z.strictObject({ http: z.url(), method: z.enum(['GET', 'POST', 'PUT']).default('POST'), ...timed(0) });
export type HttpReloadStep = z.infer<typeof httpReloadSchema>;

export const httpReload = {
  schema: httpReloadSchema,
  async run({ step, timeoutMs }) {
    const { url, headers, shown } = withoutCredentials(step.http);
    const res = await fetch(url, { method: step.method, headers, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`${step.method} ${shown} answered ${res.status}`);
    return `${step.method} ${shown}: ${res.status}`;
  },
} satisfies ConsumerActionKind<HttpReloadStep>;
