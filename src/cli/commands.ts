/** Every command, its one-line summary, and how to load it. One command per file in commands/. */
type Command = (args: string[]) => Promise<number>;

const command = (summary: string, load: () => Promise<{ run: Command }>) => ({ summary, load: async () => (await load()).run });

export const COMMANDS = {
  init: command('write a starter rotor.yaml and a local vault with a new master key', () => import('./commands/init.js')),
  status: command('every secret: current version, age, due date, stages, last result', () => import('./commands/status.js')),
  plan: command('what a rotation would do, step by step, touching nothing', () => import('./commands/plan.js')),
  rotate: command('rotate secrets: rotate <id…> | --all | --due [--no-grace]', () => import('./commands/rotate.js')),
  retire: command('revoke previous values whose grace has ended', () => import('./commands/retire.js')),
  resume: command('finish or roll back rotations a crash left open', () => import('./commands/resume.js')),
  rollback: command('make the previous value current again while it is still valid', () => import('./commands/rollback.js')),
  emergency: command('rotate everything in scope now, no grace, with an incident report', () => import('./commands/emergency.js')),
  reencrypt: command('move the data a keyring protects to its current primary key, online and resumably', () => import('./commands/reencrypt.js')),
  adopt: command('take the value in use today (stdin), prove it at the target, store it as v1 current', () => import('./commands/adopt.js')),
  set: command('store a value issued elsewhere (stdin) as the new current, deliver it, keep the previous during grace', () => import('./commands/set.js')),
  get: command('print a value (the only command that prints secrets)', () => import('./commands/get.js')),
  history: command('versions and rotations of one secret', () => import('./commands/history.js')),
  audit: command('audit verify | audit export [--since T]', () => import('./commands/audit.js')),
  backup: command('backup create --out FILE | restore FILE | verify FILE: every version, encrypted under a passphrase or key file; backup files: copies of delivered files', () => import('./commands/backup.js')),
  serve: command('the daemon: schedule, HTTP API, metrics, JWKS, notifications', () => import('./commands/serve.js')),
  token: command('API tokens for serve: token create --role R --name N | list | revoke <name>', () => import('./commands/token.js')),
  schema: command('print the JSON Schema of rotor.yaml', () => import('./commands/schema.js')),
} as const;

export type CommandName = keyof typeof COMMANDS;
