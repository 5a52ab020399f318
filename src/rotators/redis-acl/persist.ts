/**
 * Keeping ACL changes across a restart. Redis holds users in memory and reloads them at start
 * from its aclfile or its config file; a change written to neither comes undone at the next
 * restart: the server takes the old password again and refuses the one Rotor stored as
 * current. So a server that cannot save is refused at plan time (unless the secret says
 * `persist: none`), and a save that fails fails its step instead of passing as a note.
 *
 * @example
 *   const how = await persistence(call);   // 'aclfile' | 'config-file' | 'none'
 *   if (how === 'none') throw cannotPersist(where, target);
 *   await save(call, how, where);           // 'ACL SAVE'
 */
import { RotorError } from '../../errors.js';

/** Where a server keeps its users: ACL SAVE writes the aclfile, CONFIG REWRITE the config file. */
export type Persistence = 'aclfile' | 'config-file' | 'none';

/** An admin command; throws a RotorError (NOPERM as `usage`) when the server refuses it. */
export type Call = (action: string, ...args: string[]) => Promise<unknown>;

/** Reads how the server can save users: its `aclfile` setting, else whether it was started with a config file. */
export async function persistence(call: Call): Promise<Persistence> {
  const aclfile = await call('read the aclfile setting', 'CONFIG', 'GET', 'aclfile');
  if (Array.isArray(aclfile) && aclfile[1]) return 'aclfile';
  // CONFIG REWRITE needs the file the server was started with; INFO names it, empty when none.
  const info = String(await call('read INFO', 'INFO', 'server'));
  return /^config_file:\S/m.test(info) ? 'config-file' : 'none';
}

/** Preflight's refusal for a server that would lose Rotor's changes at its next restart. */
export function cannotPersist(where: string): RotorError {
  return new RotorError(
    `${where} cannot keep ACL changes across a restart: it has no aclfile and was started without a config file, so neither ACL SAVE nor CONFIG REWRITE can save them; after a restart it would take the old password again and refuse the new one`,
    {
      outcome: 'usage',
      hint: 'start Redis with a config file (CONFIG REWRITE) or an aclfile (ACL SAVE); or, when its users are set up anew at every start by something else, set `persist: none` on the secret',
    },
  );
}

/** Saves the users the way the server keeps them; a failure throws, naming what to fix. */
export async function save(call: Call, how: Persistence, where: string): Promise<string> {
  if (how === 'none') throw cannotPersist(where);
  const [command, file] = how === 'aclfile' ? (['ACL SAVE', 'aclfile'] as const) : (['CONFIG REWRITE', 'config file'] as const);
  try {
    await call(`save the users (${command})`, ...command.split(' '));
    return command;
  } catch (err) {
    if (err instanceof RotorError && err.outcome === 'usage') throw err; // NOPERM: its hint names the ACL to grant
    const why = err instanceof Error ? err.message : String(err);
    throw new RotorError(`${why}; the change is live but a restart would undo it`, {
      outcome: 'rolled-back',
      hint: `make the server's ${file} writable by Redis (see its log), or set \`persist: none\` on the secret if its users are set up anew at every start`,
      cause: err,
    });
  }
}
