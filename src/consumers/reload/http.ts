/** `reload: [{ http: URL }]`: ask the service to reload over HTTP and require a 2xx answer. */
import { z } from 'zod';
import { timed, type ConsumerActionKind } from '../kinds.js';

export const httpReloadSchema = z.strictObject({ http: z.url(), method: z.enum(['GET', 'POST', 'PUT']).default('POST'), ...timed(0) });
export type HttpReloadStep = z.infer<typeof httpReloadSchema>;

export const httpReload = {
  schema: httpReloadSchema,
  async run({ step, timeoutMs }) {
    const res = await fetch(step.http, { method: step.method, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`${step.method} ${step.http} answered ${res.status}`);
    return `${step.method} ${step.http}: ${res.status}`;
  },
} satisfies ConsumerActionKind<HttpReloadStep>;
