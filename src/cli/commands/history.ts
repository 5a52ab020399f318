/** `rotor history <id> [--json]`: versions and rotations of one secret, metadata only. */
import { UsageError } from '../../errors.js';
import { parse } from '../args.js';
import { openConfig, openState } from '../open.js';
import { table } from '../output.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, {}, 'rotor history <id> [--json]');
  if (!parsed) return 0;
  if (parsed.positionals.length !== 1) throw new UsageError('name one secret', 'usage: rotor history <id> [--json]');
  const id = parsed.positionals[0]!;
  const config = openConfig(parsed.values.config, { readOnly: true });
  const state = openState(config);
  const versions = await state.versions(id);
  const rotations = await state.rotations(id);
  // Warnings ride in step records ("warning: …"): listed per rotation, newest rotations only.
  const warnings = new Map<string, string[]>();
  for (const r of rotations.slice(-20)) {
    const found = (await state.steps(r.id)).flatMap((s) => (s.detail ?? '').split('; ').filter((part) => part.startsWith('warning: ')).map((part) => `${s.step}: ${part.slice(9)}`));
    if (found.length) warnings.set(r.id, found);
  }
  state.close();
  if (!config.secrets.some((s) => s.id === id) && !versions.length) {
    throw new UsageError(`unknown secret: ${id}`, 'see `rotor status` for the ids in rotor.yaml');
  }
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
