/**
 * What hook commands see and what they can leak:
 * - reload and health commands get neither the master key nor the variables the targets'
 *   admin URLs are built from; health commands get the same stdin and ROTOR_* as reloads;
 * - a value a command echoes is cut out whole before its output is shortened, even when it
 *   straddles the cut or arrives in pieces;
 * - read-only commands run without the targets' environment variables.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));
const sandbox = async (yaml: string, env: NodeJS.ProcessEnv = {}) => {
  const sb = new Sandbox(yaml);
  sandboxes.push(sb);
  Object.assign(sb.baseEnv, env);
  await sb.ok(['init']);
  return sb;
};

describe.concurrent('hook commands', () => {
  it('get no admin URL variables and no master key; health commands get the value on stdin and ROTOR_* like reloads', async () => {
    const sb = await sandbox(`version: 1
targets:
  db: { type: postgres, url: "postgres://admin:\${PG_ADMIN_PASSWORD}@\${PG_HOST}:5432/postgres" }
consumers:
  app:
    reload: [{ command: [sh, -c, 'env > reload.env; cat > reload.stdin'] }]
    health: [{ command: [sh, -c, 'env > health.env; cat > health.stdin'] }]
secrets:
  - { id: a, type: random, consumers: [app] }
`, { PG_ADMIN_PASSWORD: 'admin-pass-canary-1234', PG_HOST: 'db.internal', SERVICE_URL: 'http://keep.me' });
    await sb.ok(['rotate', 'a']);
    const value = (await sb.ok(['get', 'a'])).stdout.trim();
    for (const hook of ['reload', 'health']) {
      const env = readFileSync(sb.path(`${hook}.env`), 'utf8');
      expect(env, hook).not.toMatch(/PG_ADMIN_PASSWORD|admin-pass-canary|PG_HOST=|ROTOR_MASTER_KEY/);
      expect(env, hook).toContain('SERVICE_URL=http://keep.me');
      expect(env, hook).toMatch(/ROTOR_SECRET_ID=a/);
      expect(readFileSync(sb.path(`${hook}.stdin`), 'utf8'), hook).toBe(value);
    }
  });

  it('redacts an echoed value before cutting the output: no fragment of it reaches the error, history or audit', async () => {
    // The command prints the value in two writes, then just enough padding that a tail of 2,000 characters would start inside it.
    const sb = await sandbox(`version: 1
consumers:
  app:
    reload: [{ command: [sh, -c, 'v=$(cat); printf "%s" "$v" | cut -c1-10 | tr -d "\\\\n"; sleep 0.2; printf "%s" "$v" | cut -c11- | tr -d "\\\\n"; head -c 1985 /dev/zero | tr "\\\\0" x; exit 1'] }]
secrets:
  - { id: a, type: random, length: 32, encoding: hex, consumers: [app] }
`);
    await sb.ok(['rotate', 'a', '--no-grace'], {}, 1);
    const values = [];
    const h = await sb.json<{ versions: { version: number }[] }>(['history', 'a']);
    for (const v of h.versions) values.push((await sb.ok(['get', 'a', '--version', String(v.version)])).stdout.trim());
    const r = await sb.run(['rotate', 'a', '--json']);
    const h2 = await sb.json<{ versions: { version: number }[] }>(['history', 'a']);
    for (const v of h2.versions) values.push((await sb.ok(['get', 'a', '--version', String(v.version)])).stdout.trim());
    const seen = [r.stdout, r.stderr, JSON.stringify(h2), (await sb.ok(['audit', 'export'])).stdout].join('\n');
    for (const v of values) for (let i = 0; i + 12 <= v.length; i += 4) expect(seen).not.toContain(v.slice(i, i + 12));
    expect(seen).toContain('[REDACTED]');
  });
});

describe('read-only commands', () => {
  it("status, history, get, audit, plan --offline and backup verify work without the targets' variables; rotate still names the missing one", async () => {
    const yaml = `version: 1
targets:
  db: { type: postgres, url: "\${PG_ADMIN_URL}" }
secrets:
  - { id: a, type: random }
`;
    const sb = new Sandbox(yaml);
    sandboxes.push(sb);
    await sb.ok(['init'], { PG_ADMIN_URL: 'postgres://x@localhost/db' });
    await sb.ok(['rotate', 'a'], { PG_ADMIN_URL: 'postgres://x@localhost/db' });
    await sb.ok(['backup', 'create', '--out', 'b.bak'], { PG_ADMIN_URL: 'postgres://x@localhost/db', ROTOR_BACKUP_PASSPHRASE: 'correct horse battery staple' });
    for (const args of [['status'], ['history', 'a'], ['get', 'a'], ['audit', 'verify'], ['audit', 'export'], ['plan', '--offline', 'a']]) await sb.ok(args);
    await sb.ok(['backup', 'verify', 'b.bak'], { ROTOR_BACKUP_PASSPHRASE: 'correct horse battery staple' });
    const rotate = await sb.run(['rotate', 'a']);
    expect(rotate.code).toBe(2);
    expect(rotate.stderr).toMatch(/PG_ADMIN_URL is not set/);
  });
});

describe('redaction of what hooks print', () => {
  it('a value echoed in its JSON-escaped form, and another secret\'s value a hook prints from the consumer\'s file, are both redacted', async () => {
    const sb = await sandbox(`version: 1
stores:
  env: { type: env-file, path: ./app.env }
consumers:
  app:
    deliver: [{ store: env, key: TRICKY, secret: a }, { store: env, key: OTHER, secret: b }, { store: env, key: TOKEN, secret: c }]
    # Prints its stdin and the whole file, and fails once per FAIL flag (so the rollback's reload succeeds).
    reload: [{ command: [node, -e, 'let v="";process.stdin.on("data",(d)=>v+=d).on("end",()=>{const o=JSON.parse(v.startsWith("{")?v:JSON.stringify(v));for(const x of Object.values(typeof o==="object"?o:{v:o})){console.log(JSON.stringify(JSON.stringify(x)));console.log(encodeURIComponent(x))}console.log(require("fs").readFileSync("app.env","utf8"));if(require("fs").existsSync("FAIL")){require("fs").unlinkSync("FAIL");process.exit(1)}})'] }]
secrets:
  - { id: a, type: manual, rotate: { command: [sh, -c, 'printf "%s" "Leak\\"Me\\\\Now42zz-$$"'] }, consumers: [app] }
  - { id: b, type: random, consumers: [app] }
  - { id: c, type: random, consumers: [app] }
`);
    await sb.ok(['rotate', 'a', 'b', 'c']);
    sb.write('FAIL', '');
    const both = await sb.run(['rotate', 'a', 'b', '--json']);
    expect(both.code).toBe(1);
    sb.write('FAIL', '');
    const alone = await sb.run(['rotate', 'c', '--json']);
    expect(alone.code).toBe(1);
    const values: string[] = [];
    for (const id of ['a', 'b', 'c']) {
      const h = await sb.json<{ versions: { version: number }[] }>(['history', id]);
      for (const v of h.versions) values.push((await sb.ok(['get', id, '--version', String(v.version)])).stdout.trim());
    }
    const seen = [both.stdout, both.stderr, alone.stdout, alone.stderr, (await sb.ok(['audit', 'export'])).stdout, (await sb.ok(['history', 'c'])).stdout].join('\n');
    expect(seen).toContain('[REDACTED]');
    for (const v of values) {
      const once = JSON.stringify(v).slice(1, -1);
      for (const form of [v, once, JSON.stringify(once).slice(1, -1), encodeURIComponent(v)]) expect(seen).not.toContain(form);
    }
  });
});
