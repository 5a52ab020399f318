/**
 * A crash during `rotor rollback` is finished by `rotor resume` exactly as the rollback
 * would have finished: the previous value re-delivered, the consumer reloaded and checked —
 * also when the rollback came after a retire that failed (the rotation's last step is retire).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));

const CONFIG = `version: 1
stores:
  env: { type: env-file, path: ./app.env }
consumers:
  app:
    deliver: [{ store: env, key: APP_KEY }]
    reload: [{ command: [sh, -c, 'cat > reloaded-with; echo x >> reloads'] }]
    health: [{ command: [sh, -c, 'test -f app.env'] }]
secrets:
  - { id: a, type: random, grace: 1h, consumers: [app] }
`;

describe.each(['after a crashed retire', 'during plain grace'])('rollback killed %s, then resume', (when) => {
  it.each(['rollback:before', 'rollback:after'])('%s: resume re-delivers the previous value and reloads the consumer', async (crash) => {
    const sb = new Sandbox(CONFIG);
    sandboxes.push(sb);
    await sb.ok(['init']);
    await sb.ok(['rotate', 'a']);
    const v1 = (await sb.ok(['get', 'a'])).stdout.trim();
    await sb.ok(['rotate', 'a']);
    expect(readFileSync(sb.path('app.env'), 'utf8')).not.toContain(v1);
    if (when === 'after a crashed retire') expect((await sb.run(['retire', '--force', 'a'], { ROTOR_CRASH_AT: 'retire:before' })).signal).toBe('SIGKILL');
    const reloadsBefore = readFileSync(sb.path('reloads'), 'utf8').length;

    const killed = await sb.run(['rollback', 'a'], { ROTOR_CRASH_AT: crash });
    expect(killed.signal).toBe('SIGKILL');
    await sb.ok(['resume']);

    expect(readFileSync(sb.path('app.env'), 'utf8')).toBe(`APP_KEY=${v1}\n`);
    expect(readFileSync(sb.path('reloaded-with'), 'utf8')).toBe(v1);
    expect(readFileSync(sb.path('reloads'), 'utf8').length).toBeGreaterThan(reloadsBefore);
    expect((await sb.ok(['get', 'a'])).stdout.trim()).toBe(v1);
    await sb.ok(['audit', 'verify']);
  });
});
