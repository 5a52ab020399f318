/** `serve.tls`: the PEM files, read once at start (a SIGHUP does not change them). */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

export function readTls(tls: { cert: string; key: string }): { cert: Buffer; key: Buffer } {
  try {
    return { cert: readFileSync(tls.cert), key: readFileSync(tls.key) };
  } catch (err) {
    throw new UsageError(`serve.tls: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot read'} ${(err as NodeJS.ErrnoException).path ?? ''}`, 'give the PEM certificate and key files under serve.tls');
  }
}
