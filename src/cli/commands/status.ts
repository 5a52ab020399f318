/** `rotor status [--json]`: one line per secret, from metadata only (no master key needed; app/status.ts). */
import { secretsStatus } from '../../app/status.js';
import { formatAge } from '../../config/duration.js';
import { parse } from '../args.js';
import { openConfig } from '../open.js';
import { table } from '../output.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, {}, 'rotor status [--json]');
  if (!parsed) return 0;
  const config = openConfig(parsed.values.config, { readOnly: true });
  const now = Date.now();
  const { secrets: rows, locks: lockRows } = await secretsStatus(config, now);
  if (parsed.values.json) {
    process.stdout.write(`${JSON.stringify({ secrets: rows, locks: lockRows })}\n`);
    return 0;
  }
  const stageText = (st: Record<string, number | undefined>) =>
    (['current', 'previous', 'pending', 'retired', 'failed'] as const).filter((k) => st[k]).map((k) => `${st[k]} ${k}`).join(', ') || '-';
  process.stdout.write(
    table(
      ['SECRET', 'TYPE', 'PRIORITY', 'CURRENT', 'AGE', 'DUE', 'VERSIONS', 'LAST ROTATION'],
      rows.map((r) => [
        r.id, r.type, r.priority,
        r.currentVersion === null ? '-' : `v${r.currentVersion}`,
        r.currentSince === null ? '-' : formatAge(now - r.currentSince),
        r.dueAt === null ? '-' : r.overdue ? (r.currentSince === null ? 'now (never rotated)' : `overdue ${formatAge(now - r.dueAt)}`) : `in ${formatAge(r.dueAt - now)}`,
        stageText(r.stages),
        r.lastRotation ? `${r.interrupted ? 'interrupted (rotor resume)' : r.lastRotation.status}${r.lastRotation.error ? `: ${r.lastRotation.error.slice(0, 60)}` : ''}` : '-',
      ]),
    ),
  );
  if (lockRows.length) {
    process.stdout.write(`\nlocks\n${table(['SECRET', 'HOLDER', 'SINCE', 'LEASE'], lockRows.map((l) => [
      l.secretId, `pid ${l.pid} on ${l.host}`, new Date(l.acquiredAt).toISOString(),
      l.stale ? `stale (${l.expired ? `expired ${formatAge(now - l.expiresAt)} ago` : 'its process is gone'}): \`rotor resume\` clears it` : `renewed, until ${new Date(l.expiresAt).toISOString()}`,
    ]))}`);
  }
  return 0;
}
