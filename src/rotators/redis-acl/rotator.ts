/**
 * `redis-acl`: rotates a Redis 6+ ACL user's password.
 *
 * - dual-password: one user holds two passwords between apply and retire — the way Redis
 *   ACLs were designed for rotation — so no client ever fails. Retire leaves it exactly the
 *   current one (`resetpass #current`): a password set before Rotor goes too.
 * - alternating: users `name` and `name_clone`. The clone is given `name`'s rules (or the
 *   secret's `rules`) afresh whenever it is set, so `name` is where rules are edited. Retire
 *   switches off the user not current — on the first rotation `name` itself.
 * - requirepass: the `default` user's password, replaced in place (clients on the old one
 *   fail from apply until they get the new one); retire re-asserts it is the only one.
 *
 * Passwords reach the server only as SHA-256 hashes (`#<hex>` / `!<hex>` rules), never as
 * `>plaintext`, so neither MONITOR nor the slow log ever shows one.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { RotorError } from '../../errors.js';
import type { Rotator, RotatorDeps, TargetRef } from '../types.js';
import { drain, type Session } from '../shared/drain.js';
import { adoptedLogin, newLogin, otherLogin } from '../shared/spec.js';
import { adminCache, type AdminBase } from '../shared/admin-cache.js';
import { untilAborted } from '../shared/abort.js';
import { networkProblem } from '../shared/target-url.js';
import { baseUser, userFor, type RedisSpec, type RedisValue } from './schema.js';
import { cannotPersist, persistence, save, type Persistence } from './persist.js';

/** A target's connection, with the signal of the request using it: a command cut off by it drops the connection. */
type Admin = AdminBase & { conn: Redis; signal?: AbortSignal };

/**
 * ioredis's ready check runs INFO after AUTH; a user without +info (a rotated user that may
 * only read and write its keys, usually) gets NOPERM, and ioredis then prints "Skipping the
 * ready check…" on stderr from inside the library. Rotor needs no ready check: its first
 * command tells it whether the server answers, and any error of it is reported as Rotor's own.
 */
const QUIET = { enableReadyCheck: false } as const;

const sha256 = (password: string) => createHash('sha256').update(password).digest('hex');

interface AclUser {
  /** on / off, nopass, allkeys … */
  flags: string[];
  passwords: string[];
  commands: string;
  keys: string;
  channels: string;
}

/** ACL GETUSER's flat reply as an object; Redis 6.2 gives keys as an array, 7 as a string. */
function parseGetUser(reply: unknown): AclUser | undefined {
  if (!Array.isArray(reply)) return undefined;
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), reply[i + 1]);
  const text = (v: unknown, prefix: string) => (Array.isArray(v) ? v.map((p) => `${prefix}${String(p)}`).join(' ') : String(v ?? ''));
  const list = (key: string) => (Array.isArray(map.get(key)) ? (map.get(key) as unknown[]).map(String) : []);
  return {
    flags: list('flags'),
    passwords: Array.isArray(map.get('passwords')) ? (map.get('passwords') as unknown[]).map(String) : [],
    commands: String(map.get('commands') ?? ''),
    keys: text(map.get('keys'), '~'),
    channels: text(map.get('channels'), '&'),
  };
}

function adminProblem(err: unknown, a: Admin, action: string): RotorError {
  const net = networkProblem(err, a.where);
  if (net) return net;
  const text = err instanceof Error ? err.message : String(err);
  if (/WRONGPASS|NOAUTH|invalid username-password/i.test(text)) {
    return new RotorError(`${a.where} refused the admin login ${a.addr.user || 'default'}`, {
      outcome: 'usage', hint: `check the user and password in targets.${a.target.name}.url`, cause: err,
    });
  }
  if (/NOPERM/i.test(text)) {
    return new RotorError(`the admin user ${a.addr.user || 'default'} of ${a.where} may not ${action}: ${text}`, {
      outcome: 'usage', hint: `grant it the ACL, CONFIG and CLIENT commands: ACL SETUSER ${a.addr.user || 'default'} +acl +config|get +config|rewrite +client|list +info`, cause: err,
    });
  }
  return new RotorError(`${a.where} could not ${action}: ${text}`, { outcome: 'rolled-back', cause: err });
}

export function createRedisRotator(_deps: RotatorDeps) {
  const admins = adminCache({
    type: 'redis-acl',
    defaultPort: 6379,
    open: (target) => {
      const client = new Redis(target.url, {
        ...QUIET,
        lazyConnect: true, connectTimeout: 10_000, maxRetriesPerRequest: 1, retryStrategy: () => null, connectionName: 'rotor', disconnectTimeout: 50,
      });
      client.on('error', () => {});
      return client;
    },
    dead: (client) => client.status === 'end',
  });
  const admin = (target: TargetRef | undefined, signal?: AbortSignal): Admin => ({ ...admins.get(target), signal });

  async function call(a: Admin, action: string, ...args: string[]): Promise<unknown> {
    try {
      // The connection is shared by every secret of the batch on this target, so a step that
      // times out only stops waiting: dropping it would fail the others' commands too. Redis
      // runs one connection's commands in order, so the rollback's undo, sent after, runs
      // after the abandoned command and sees what it did.
      const cutOff = () => {};
      if (a.conn.status === 'wait') await untilAborted(a.signal, a.conn.connect(), cutOff);
      return await untilAborted(a.signal, a.conn.call(args[0]!, ...args.slice(1)), cutOff);
    } catch (err) {
      if (a.signal?.aborted && err === a.signal.reason) throw err;
      throw adminProblem(err, a, action);
    }
  }

  const getUser = async (a: Admin, user: string) => parseGetUser(await call(a, `read ACL user ${user}`, 'ACL', 'GETUSER', user));

  /** How each server keeps its users (aclfile, config file or neither), read once per connection. */
  const persistences = new Map<Redis, Promise<Persistence>>();
  const persistenceOf = (a: Admin): Promise<Persistence> => {
    let how = persistences.get(a.conn);
    if (!how) persistences.set(a.conn, (how = persistence((action, ...args) => call(a, action, ...args))));
    return how;
  };

  /**
   * Makes a restart keep what was just changed. A failed save fails the step (apply rolls
   * back, retire stays open to be retried); an undo only reports it: what it restored is
   * what the server saved last.
   */
  async function persist(a: Admin, spec: RedisSpec, step: 'change' | 'undo' = 'change'): Promise<string> {
    if (spec.persist === 'none') return 'not persisted (persist: none)';
    try {
      return await save((action, ...args) => call(a, action, ...args), await persistenceOf(a), a.where);
    } catch (err) {
      if (step === 'undo') return `not persisted: ${err instanceof Error ? err.message : String(err)}`;
      throw err;
    }
  }

  /** Rules for a user Rotor sets up: the spec's, else a copy of `from`'s keys, channels and commands. */
  async function rulesFor(a: Admin, spec: RedisSpec, from: string): Promise<string[]> {
    if (spec.rules) return spec.rules.split(/\s+/).filter(Boolean);
    const source = await getUser(a, from);
    if (!source) throw new RotorError(`ACL user ${from} does not exist at ${a.where}, and the secret has no \`rules\` to create one with`, { outcome: 'usage', hint: 'create the user, or give `rules` (e.g. "~app:* +@read +@write")' });
    return [source.commands, source.keys, source.channels].join(' ').split(/\s+/).filter(Boolean);
  }

  const sessionsOf = (a: Admin, user: string) => async (): Promise<Session[]> => {
    const list = String(await call(a, 'list clients', 'CLIENT', 'LIST'));
    const out: Session[] = [];
    for (const line of list.split('\n')) {
      const fields = new Map(line.trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
      if (fields.get('user') === user) out.push({ client: fields.get('addr') ?? '?', application: fields.get('name') ?? '' });
    }
    return out;
  };

  /** AUTH as `value` on a new connection; true when the server accepted it. */
  async function tryAuth(a: Admin, value: RedisValue): Promise<boolean> {
    const c = new Redis({
      ...QUIET,
      host: value.host, port: value.port, username: value.username, password: value.password,
      lazyConnect: true, connectTimeout: 10_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, connectionName: 'rotor-verify',
      // ioredis otherwise keeps a closed socket's timer alive for 2 s, holding the CLI open.
      disconnectTimeout: 50,
    });
    // ioredis reports a refused AUTH on its 'error' event and then rejects connect() with
    // "Connection is closed": the first error is the one that says what happened.
    let first: unknown;
    c.on('error', (err) => (first ??= err));
    try {
      await untilAborted(a.signal, c.connect(), () => c.disconnect());
      return true;
    } catch (err) {
      if (a.signal?.aborted && err === a.signal.reason) throw err;
      const cause = first ?? err;
      if (/WRONGPASS|invalid username-password|user is disabled/i.test(cause instanceof Error ? cause.message : '')) return false;
      throw networkProblem(cause, `${a.where} (as ${value.username})`) ?? cause;
    } finally {
      c.disconnect();
    }
  }

  /** The user is exactly `current`: its one password is current's hash, and it is not nopass. */
  async function onlyCurrent(a: Admin, current: RedisValue): Promise<{ ok: boolean; detail: string }> {
    const user = await getUser(a, current.username);
    const hash = sha256(current.password);
    if (!user) return { ok: false, detail: `ACL user ${current.username} does not exist` };
    if (user.flags.includes('nopass')) return { ok: false, detail: `${current.username} is nopass: it accepts any password` };
    const others = user.passwords.filter((p) => p !== hash).length;
    if (others || !user.passwords.includes(hash)) {
      return { ok: false, detail: `${current.username} holds ${others} password${others === 1 ? '' : 's'} besides the current one${user.passwords.includes(hash) ? '' : ', and not the current one'}` };
    }
    return { ok: true, detail: `${current.username} holds the current password and no other (ACL GETUSER)` };
  }

  /** alternating: the user not current is off (an off user cannot log in, whatever passwords it holds; retire removes them too). */
  async function otherOff(a: Admin, spec: RedisSpec, current: RedisValue): Promise<{ ok: boolean; detail: string }> {
    const other = otherLogin(baseUser(spec), current.username);
    const user = await getUser(a, other);
    if (!user) return { ok: true, detail: `ACL user ${other} does not exist` };
    if (user.flags.includes('on')) return { ok: false, detail: `ACL user ${other} is still on` };
    return { ok: true, detail: `ACL user ${other} is off${user.passwords.length || user.flags.includes('nopass') ? '' : ' with no password'}` };
  }

  /**
   * Redis passwords: `user` accepts `current` and nothing else (one atomic ACL SETUSER). When
   * already so it still saves: a retire retried after a failed save must not pass unsaved.
   */
  async function resetTo(a: Admin, spec: RedisSpec, current: RedisValue): Promise<string> {
    if ((await onlyCurrent(a, current)).ok) return `${current.username} already holds the current password only; ${await persist(a, spec)}`;
    await call(a, `reset the passwords of ${current.username}`, 'ACL', 'SETUSER', current.username, 'resetpass', `#${sha256(current.password)}`);
    return `every password of ${current.username} but the current one removed; ${await persist(a, spec)}`;
  }

  /**
   * alternating apply. The clone gets the main's rules afresh (`reset`), so a rule taken from
   * the main is gone from the clone too; the main keeps its own rules and only its password
   * changes. With `rules` in the secret, both are set to those.
   */
  async function applyAlternating(a: Admin, spec: RedisSpec, pending: RedisValue): Promise<string> {
    const hash = `#${sha256(pending.password)}`;
    if (pending.username === baseUser(spec) && !spec.rules) {
      await call(a, `set the password of ${pending.username}`, 'ACL', 'SETUSER', pending.username, 'on', 'resetpass', hash);
      return `set the password of ${pending.username}`;
    }
    const rules = await rulesFor(a, spec, baseUser(spec));
    await call(a, `set the password of ${pending.username}`, 'ACL', 'SETUSER', pending.username, 'reset', 'on', hash, ...rules);
    return `set the password and rules of ${pending.username} (${spec.rules ? 'the secret\'s rules' : `${baseUser(spec)}'s rules`})`;
  }

  /** Preflight: an admin that logs in as the user it rotates would lose its own login. */
  function refuseSelf(a: Admin, spec: RedisSpec, me: string): void {
    const base = baseUser(spec);
    if (me !== base && !(spec.strategy === 'alternating' && me === `${base}_clone`)) return;
    throw new RotorError(`the admin connection of ${a.where} authenticates as ${me}, the user this secret rotates: the admin URL's password would stop working`, {
      outcome: 'usage',
      hint: `create an ACL admin user and put it in targets.${a.target.name}.url, e.g. ACL SETUSER rotor on >… +acl +config|get +config|rewrite +client|list +info (then ACL SAVE or CONFIG REWRITE)`,
    });
  }

  /** Preflight, alternating: drain needs CLIENT LIST to see who still uses the old user. */
  async function checkClientList(a: Admin): Promise<void> {
    try {
      await call(a, 'list clients (CLIENT LIST), which drain needs to see who is still logged in as the old user', 'CLIENT', 'LIST');
    } catch (err) {
      if (err instanceof RotorError && err.outcome === 'usage') {
        throw new RotorError(err.message, { outcome: 'usage', hint: `ACL SETUSER ${a.addr.user || 'default'} +client|list`, cause: err });
      }
      throw err;
    }
  }

  return {
    async preflight({ spec, target, signal }) {
      const a = admin(target, signal);
      const info = String(await call(a, 'read INFO', 'INFO', 'server'));
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
      if (Number(version.split('.')[0]) < 6) {
        throw new RotorError(`${a.where} runs Redis ${version}, which has no ACL users`, { outcome: 'usage', hint: 'upgrade to Redis 6 or later' });
      }
      const me = String(await call(a, 'run ACL WHOAMI', 'ACL', 'WHOAMI'));
      refuseSelf(a, spec, me);
      if (spec.strategy === 'alternating') await checkClientList(a);
      const how = spec.persist === 'none' ? undefined : await persistenceOf(a);
      if (how === 'none') throw cannotPersist(a.where);
      const base = baseUser(spec);
      if (!spec.rules && spec.strategy !== 'requirepass' && !(await getUser(a, base))) {
        throw new RotorError(`ACL user ${base} does not exist at ${a.where}`, { outcome: 'usage', hint: 'create it, or give `rules` so Rotor creates it (e.g. "~app:* +@read +@write")' });
      }
      const saved = how === 'aclfile' ? 'changes saved with ACL SAVE' : how === 'config-file' ? 'changes saved with CONFIG REWRITE' : 'changes not saved (persist: none)';
      return { notes: [`Redis ${version}; admin ${me}; ${saved}`] };
    },

    async adoptValue({ spec, target, input, signal }) {
      const a = admin(target, signal);
      // Every strategy starts from `username` (requirepass: default): where clients log in before Rotor.
      return { value: adoptedLogin(spec, a.addr, baseUser(spec), input) };
    },

    async generate({ spec, target, current, signal }) {
      const a = admin(target, signal);
      return { value: newLogin(spec, a.addr, userFor(spec, current)) };
    },

    async apply({ spec, target, pending, signal }) {
      const a = admin(target, signal);
      const hash = `#${sha256(pending.password)}`;
      let detail: string;
      switch (spec.strategy) {
        case 'dual-password': {
          const exists = await getUser(a, pending.username);
          const rules = exists ? [] : await rulesFor(a, spec, pending.username);
          await call(a, `add a password to ${pending.username}`, 'ACL', 'SETUSER', pending.username, 'on', hash, ...rules);
          detail = exists ? `added the new password to ${pending.username}` : `created ${pending.username}`;
          break;
        }
        case 'alternating':
          detail = await applyAlternating(a, spec, pending);
          break;
        case 'requirepass':
          await call(a, 'set the password of default', 'ACL', 'SETUSER', pending.username, 'on', 'resetpass', hash);
          detail = `replaced the password of ${pending.username}`;
          break;
      }
      return { detail: `${detail}; ${await persist(a, spec)}` };
    },

    async verify({ target, value, signal }) {
      const a = admin(target, signal);
      if (!(await tryAuth(a, value))) throw new RotorError(`${a.where} refused the new password of ${value.username}`, { outcome: 'rolled-back' });
      return { detail: `AUTH as ${value.username} ok` };
    },

    async undoApply({ spec, target, pending, current, signal }) {
      const a = admin(target, signal);
      switch (spec.strategy) {
        case 'dual-password': {
          const user = await getUser(a, pending.username);
          const rules: string[] = [];
          if (user?.passwords.includes(sha256(pending.password))) rules.push(`!${sha256(pending.password)}`);
          if (current && !user?.passwords.includes(sha256(current.password))) rules.push(`#${sha256(current.password)}`);
          if (!rules.length) return { detail: 'nothing to undo' };
          await call(a, `remove the new password of ${pending.username}`, 'ACL', 'SETUSER', pending.username, ...rules);
          break;
        }
        case 'alternating':
          if (current?.username === pending.username) return { detail: 'nothing to undo' };
          await call(a, `switch ${pending.username} off`, 'ACL', 'SETUSER', pending.username, 'off', 'resetpass');
          break;
        case 'requirepass':
          if (!current) return { detail: 'first rotation: the password default had before Rotor cannot be restored; the pending value stays accepted and stored' };
          await call(a, 'restore the password of default', 'ACL', 'SETUSER', current.username, 'on', 'resetpass', `#${sha256(current.password)}`);
          break;
      }
      return { detail: `withdrew the new password; ${await persist(a, spec, 'undo')}` };
    },

    // `retiring` is not needed: what to revoke follows from `current` and the strategy, and
    // is the same whether the old value was Rotor's or came before it.
    async retire({ spec, target, current, emergency, signal }) {
      const a = admin(target, signal);
      if (spec.strategy !== 'alternating') return { detail: await resetTo(a, spec, current) };
      const other = otherLogin(baseUser(spec), current.username);
      if (!(await getUser(a, other))) return { detail: `ACL user ${other} does not exist` };
      const drained = await drain({ login: other, policy: spec.drain, emergency, signal, sessions: sessionsOf(a, other) });
      await call(a, `switch ${other} off`, 'ACL', 'SETUSER', other, 'off', 'resetpass');
      return { detail: `${drained}; ${other} switched off, its passwords removed; ${await persist(a, spec)}` };
    },

    async checkRejected({ spec, target, retired, current, signal }) {
      const a = admin(target, signal);
      const proofs: string[] = [];
      if (retired) {
        if (await tryAuth(a, retired)) return { rejected: false, detail: `AUTH as ${retired.username} with the old password still works` };
        proofs.push(`AUTH as ${retired.username} with the old password refused`);
      }
      // An engine from before `current` was part of this request gives none: the login attempt stands alone.
      if (!current) return { rejected: proofs.length > 0, detail: proofs.join('; ') || 'no current value to prove against' };
      const proof = spec.strategy === 'alternating' ? await otherOff(a, spec, current) : await onlyCurrent(a, current);
      return { rejected: proof.ok, detail: [...proofs, proof.detail].join('; ') };
    },

    async close() {
      for (const client of admins.all()) client.disconnect();
      admins.clear();
    },
  } satisfies Rotator<RedisSpec, RedisValue>;
}
