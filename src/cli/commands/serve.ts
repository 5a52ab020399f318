/** `rotor serve [--listen HOST:PORT]`: the daemon (daemon/daemon.ts). Runs until SIGTERM or SIGINT. */
import { UsageError } from '../../errors.js';
import { parse } from '../args.js';
import { openConfig } from '../open.js';

const USAGE = 'rotor serve [--listen 127.0.0.1:8200] [--config rotor.yaml]';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { listen: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  if (parsed.positionals.length) throw new UsageError('serve takes no arguments', `usage: ${USAGE}`);
  const config = openConfig(parsed.values.config);
  // Loaded here, not at start-up: fastify, pino and prom-client are the daemon's alone.
  const { runDaemon } = await import('../../daemon/daemon.js');
  return runDaemon({ config, configFlag: parsed.values.config, listen: parsed.values.listen });
}
