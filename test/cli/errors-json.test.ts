/** Errors under `--json` name their real kind (the bundle is minified; class names must survive it). */
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));

describe('--json errors', () => {
  it.each([
    [['get', 'no/such', '--json'], 'NotFoundError', 2],
    [['history', 'no/such', '--json'], 'NotFoundError', 2],
    [['rotate', '--jsn', '--json'], 'UsageError', 2],
    [['rotate', 'a', '--json'], 'MasterKeyError', 2],
  ])('rotor %j reports kind %s', async (args, kind, code) => {
    const sb = new Sandbox('version: 1\nsecrets:\n  - { id: a, type: random }\n');
    sandboxes.push(sb);
    await sb.ok(['init']);
    const r = await sb.run(args, kind === 'MasterKeyError' ? { ROTOR_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') } : {});
    expect(r.code).toBe(code);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind, exitCode: code });
  });

  it('a config error reports ConfigError with its problems', async () => {
    const sb = new Sandbox('version: 1\nsecrets:\n  - { id: a, type: nope }\n');
    sandboxes.push(sb);
    const r = await sb.run(['status', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'ConfigError', problems: [expect.objectContaining({ line: 3 })] });
  });
});
