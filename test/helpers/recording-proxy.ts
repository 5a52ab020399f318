/**
 * A TCP proxy that records what each client connection sends. Servers hide credentials
 * from their own logs (Redis redacts ACL SETUSER in MONITOR and the slow log), so to prove
 * what Rotor puts on the wire, tests look at the wire.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface RecordingProxy {
  port: number;
  /** Bytes each client connection sent, in connection order. */
  sent: Buffer[][];
  close(): Promise<void>;
}

export async function recordingProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<RecordingProxy> {
  const sent: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const chunks: Buffer[] = [];
    sent.push(chunks);
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('proxy has no port');
  return {
    port: address.port,
    sent,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
