/** `rotor status [--json]`: one line per secret, from metadata only (no master key needed). */
import { formatAge, formatDuration } from '../../config/duration.js';
import { parse } from '../args.js';
import { dueAt } from '../due.js';
import { openConfig, openState } from '../open.js';
import { table } from '../output.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, {}, 'rotor status [--json]');
  if (!parsed) return 0;
  const config = openConfig(parsed.values.config, { readOnly: true });
  const state = openState(config);
  const summaries = await state.summaries();
  const locks = await state.locks();
  state.close();
  const now = Date.now();
  // A rotation recorded as under way whose secret no live process holds was interrupted (Ctrl-C, kill, a crash).
  const heldBy = new Set(locks.filter((l) => !l.stale).map((l) => l.secretId));
  const rows = config.secrets.map((s) => {
    const sum = summaries.get(s.id);
    const due = dueAt(s, sum);
    const last = sum?.lastRotation;
    return {
      id: s.id, type: s.type, priority: s.priority,
      currentVersion: sum?.currentVersion ?? null,
      currentSince: sum?.currentSince ?? null,
      interval: s.intervalMs === undefined ? null : formatDuration(s.intervalMs),
      dueAt: due ?? null,
      overdue: due !== undefined && due <= now,
      stages: sum?.stageCounts ?? {},
      lastRotation: sum?.lastRotation ?? null,
      interrupted: Boolean(last && (last.status === 'running' || last.status === 'rolling-back') && !heldBy.has(s.id)),
    };
  });
  const lockRows = locks.map((l) => ({
    secretId: l.secretId, pid: l.pid, host: l.host, acquiredAt: l.acquiredAt, expiresAt: l.expiresAt, expired: l.expiresAt <= now, stale: Boolean(l.stale),
  }));
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
