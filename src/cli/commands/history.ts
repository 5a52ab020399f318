/** `rotor history <id> [--json]`: versions and rotations of one secret, metadata only (app/history.ts). */
import { secretHistory } from '../../app/history.js';
import { UsageError } from '../../errors.js';
import { parse } from '../args.js';
import { openConfig } from '../open.js';
import { table } from '../output.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, {}, 'rotor history <id> [--json]');
  if (!parsed) return 0;
  if (parsed.positionals.length !== 1) throw new UsageError('name one secret', 'usage: rotor history <id> [--json]');
  const id = parsed.positionals[0]!;
  const config = openConfig(parsed.values.config, { readOnly: true });
  const { versions, rotations, warnings } = await secretHistory(config, id);
  if (parsed.values.json) {
    process.stdout.write(`${JSON.stringify({ secretId: id, versions, rotations: rotations.map((r) => ({ ...r, warnings: warnings.get(r.id) ?? [] })) })}\n`);
    return 0;
  }
  const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString().replace('.000Z', 'Z'));
  process.stdout.write(`${id}: versions\n`);
  process.stdout.write(table(['VERSION', 'STAGE', 'CREATED', 'STAGE SINCE', 'FINGERPRINT', 'ROTATION'],
    [...versions].reverse().map((v) => [`v${v.version}`, v.stage, iso(v.createdAt), iso(v.stageChangedAt), v.fingerprint, v.rotationId])));
  process.stdout.write(`\n${id}: rotations\n`);
  process.stdout.write(table(['ROTATION', 'TRIGGER', 'STATUS', 'VERSIONS', 'STARTED', 'FINISHED', 'REASON / INCIDENT / ERROR'],
    [...rotations].reverse().map((r) => [
      r.id, r.trigger, r.status, `${r.fromVersion === null ? '-' : `v${r.fromVersion}`} → v${r.toVersion}`, iso(r.startedAt), iso(r.finishedAt),
      [r.reason, r.incident && `incident ${r.incident}`, r.error].filter(Boolean).join(' / ') || '-',
    ])));
  if (warnings.size) {
    process.stdout.write(`\n${id}: warnings\n`);
    for (const [rotation, list] of warnings) for (const w of list) process.stdout.write(`${rotation}  ! ${w}\n`);
  }
  return 0;
}
