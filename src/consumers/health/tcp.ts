/** `health: [{ tcp: host:port }]`: the port must accept a connection. */
import { z } from 'zod';
import { timed, type ConsumerActionKind } from '../kinds.js';

export const tcpHealthSchema = z.strictObject({
  tcp: z.string().regex(/^[^:\s]+:\d{1,5}$/, 'host:port').describe('host:port that must accept a connection'),
  ...timed(3),
});
export type TcpHealthStep = z.infer<typeof tcpHealthSchema>;

export const tcpHealth = {
  schema: tcpHealthSchema,
  async run({ step, timeoutMs }) {
    const { connect } = await import('node:net');
    const [host, port] = [step.tcp.slice(0, step.tcp.lastIndexOf(':')), Number(step.tcp.slice(step.tcp.lastIndexOf(':') + 1))];
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host, port, timeout: timeoutMs });
      s.once('connect', () => (s.destroy(), resolve()));
      s.once('timeout', () => (s.destroy(), reject(new Error(`${step.tcp} did not accept a connection within ${step.timeout}`))));
      s.once('error', (err) => reject(new Error(`${step.tcp}: ${err.message}`)));
    });
    return `${step.tcp} accepts connections`;
  },
} satisfies ConsumerActionKind<TcpHealthStep>;
