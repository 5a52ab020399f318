/**
 * Password policies of the server, and passwords that satisfy them.
 *
 * MariaDB checks a password against its validation plugins (simple_password_check,
 * cracklib_password_check, password_reuse_check) only when it receives the password itself.
 * Rotor sends MariaDB a hash (`IDENTIFIED BY PASSWORD '*…'`, so no password reaches the
 * general, slow or binary log), which such a plugin cannot check: with
 * strict_password_validation ON (the default) the server refuses every hash, and with it OFF
 * the hash slips past the policy. So Rotor reads the policy itself: it refuses a server that
 * refuses hashes, generates passwords that satisfy the policy, and checks each one again
 * before it sends the hash. MySQL's validate_password component checks the password MySQL
 * receives; generating to its settings keeps every rotation from failing there.
 *
 * Generated passwords stay free of characters that need quoting in a shell, a URL, an env
 * file or YAML: letters, digits and, only when the policy asks for them, `-`, `_` and `.`
 * (never first, where `-` would read as an option).
 *
 * @example
 *   const policy = policyFrom({ mariadb: true }, ['simple_password_check'], vars);
 *   const password = policyPassword(policy, lengthFor(policy, 32));
 *   unmet(policy, password); // []
 */
import { randomInt } from 'node:crypto';
import { RotorError } from '../../errors.js';

export interface PasswordPolicy {
  /** What enforces it, for messages: `simple_password_check`, `validate_password (MEDIUM)`. */
  enforcedBy: string[];
  minLength: number;
  digits: number;
  upper: number;
  lower: number;
  /** Characters that are neither letters nor digits. */
  special: number;
  /** The variable that sets `minLength`, named in a hint when it asks too much. */
  lengthVariable?: string;
  /** MariaDB with strict_password_validation ON and a validation plugin active: every password hash is refused. */
  refusesHashes: boolean;
  /** Checks Rotor cannot make itself (a dictionary, reuse); a new random password passes them. */
  unchecked: string[];
}

/** What a server reports: active validation plugins (MariaDB) and global variables. */
export interface PolicySource {
  mariadb: boolean;
  plugins: string[];
  variables: Map<string, string>;
}

/** The longest password Rotor generates (passwordLength's own limit). */
export const MAX_GENERATED = 128;

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const SPECIAL = '-_.';
const ALNUM = UPPER + LOWER + DIGITS;

export function policyFrom(src: PolicySource): PasswordPolicy {
  const policy: PasswordPolicy = { enforcedBy: [], minLength: 0, digits: 0, upper: 0, lower: 0, special: 0, refusesHashes: false, unchecked: [] };
  const num = (name: string) => Number(src.variables.get(name) ?? 0) || 0;
  if (src.mariadb) {
    if (src.plugins.includes('simple_password_check')) {
      const letters = num('simple_password_check_letters_same_case');
      raise(policy, 'simple_password_check', {
        minLength: num('simple_password_check_minimal_length'), digits: num('simple_password_check_digits'),
        upper: letters, lower: letters, special: num('simple_password_check_other_characters'),
      }, 'simple_password_check_minimal_length');
    }
    if (src.plugins.includes('cracklib_password_check')) {
      // cracklib refuses dictionary words and short or repetitive passwords; it has no counts to read.
      raise(policy, 'cracklib_password_check', { minLength: 8 });
      policy.unchecked.push('cracklib_password_check: not a dictionary word (a random password is none)');
    }
    if (src.plugins.includes('password_reuse_check')) {
      policy.enforcedBy.push('password_reuse_check');
      policy.unchecked.push('password_reuse_check: not a password used before (each generated one is new)');
    }
    for (const other of src.plugins.filter((p) => !['simple_password_check', 'cracklib_password_check', 'password_reuse_check'].includes(p))) {
      policy.enforcedBy.push(other);
      policy.unchecked.push(`${other}: unknown to Rotor`);
    }
    policy.refusesHashes = src.plugins.length > 0 && /^(on|1)$/i.test(src.variables.get('strict_password_validation') ?? 'ON');
  } else {
    validatePassword(policy, src.variables);
  }
  return policy;
}

/** MySQL's validate_password (the 8.0 component's `validate_password.x`, or the 5.7 plugin's `validate_password_x`). */
function validatePassword(policy: PasswordPolicy, variables: Map<string, string>): void {
  const get = (name: string) => variables.get(`validate_password.${name}`) ?? variables.get(`validate_password_${name}`);
  if (get('length') === undefined) return;
  const n = (name: string) => Number(get(name) ?? 0) || 0;
  const level = String(get('policy') ?? 'MEDIUM').toUpperCase();
  const strength = level === '0' || level === 'LOW' ? 'LOW' : level === '2' || level === 'STRONG' ? 'STRONG' : 'MEDIUM';
  const lengthVariable = variables.has('validate_password.length') ? 'validate_password.length' : 'validate_password_length';
  if (strength === 'LOW') return raise(policy, 'validate_password (LOW)', { minLength: n('length') }, lengthVariable);
  const mixed = n('mixed_case_count');
  raise(policy, `validate_password (${strength})`, { minLength: n('length'), digits: n('number_count'), upper: mixed, lower: mixed, special: n('special_char_count') }, lengthVariable);
  if (strength === 'STRONG' && get('dictionary_file')) policy.unchecked.push('validate_password: no dictionary word of 4 or more letters');
}

type Counts = Partial<Pick<PasswordPolicy, 'minLength' | 'digits' | 'upper' | 'lower' | 'special'>>;

/** Adds what one plugin asks: each count is the largest any plugin asks. */
function raise(policy: PasswordPolicy, by: string, counts: Counts, lengthVariable?: string): void {
  policy.enforcedBy.push(by);
  for (const key of ['digits', 'upper', 'lower', 'special'] as const) policy[key] = Math.max(policy[key], counts[key] ?? 0);
  const least = Math.max(counts.minLength ?? 0, (counts.digits ?? 0) + (counts.upper ?? 0) + (counts.lower ?? 0) + (counts.special ?? 0));
  if (least > policy.minLength) {
    policy.minLength = least;
    policy.lengthVariable = lengthVariable;
  }
}

export const hasPolicy = (p: PasswordPolicy): boolean => p.enforcedBy.length > 0;

/** The length to generate: the secret's `passwordLength`, or more when the policy asks for more. */
export function lengthFor(p: PasswordPolicy, wanted: number): number {
  const classes = p.digits + p.upper + p.lower + p.special;
  // Room for one letter or digit first when every other character must be special.
  return Math.max(wanted, p.minLength, classes + (p.special > 0 && classes === p.special ? 1 : 0));
}

/**
 * Why Rotor cannot rotate under this policy, as the RotorError preflight and generate
 * throw (outcome `usage`: nothing was touched); undefined when it can.
 */
export function policyProblem(p: PasswordPolicy, where: string, wanted: number): RotorError | undefined {
  if (p.refusesHashes) {
    return new RotorError(
      `${where} refuses password hashes: strict_password_validation is ON and ${p.enforcedBy.join(', ')} is active, but Rotor sets MariaDB passwords only as hashes (MariaDB would write the password itself to its general, slow and binary logs)`,
      {
        outcome: 'usage',
        hint: `SET GLOBAL strict_password_validation = OFF (and strict_password_validation = OFF under [mariadbd] in the server's config): Rotor then checks every password it generates against ${p.enforcedBy.join(', ')}'s settings before it sends the hash, so its passwords still meet the policy`,
      },
    );
  }
  const length = lengthFor(p, wanted);
  if (length > MAX_GENERATED) {
    return new RotorError(`${where}'s password policy (${p.enforcedBy.join(', ')}) asks for ${length} characters; Rotor generates at most ${MAX_GENERATED}`, {
      outcome: 'usage', hint: `lower ${p.lengthVariable ?? 'the policy\'s minimal length'} to ${MAX_GENERATED} or less`,
    });
  }
  return undefined;
}

/** What `password` lacks under the policy, as words without any of its characters ([] when it complies). */
export function unmet(p: PasswordPolicy, password: string): string[] {
  const count = (set: string) => [...password].filter((c) => set.includes(c)).length;
  const others = password.length - count(ALNUM);
  const out: string[] = [];
  if (password.length < p.minLength) out.push(`fewer than ${p.minLength} characters`);
  if (count(DIGITS) < p.digits) out.push(`fewer than ${p.digits} digits`);
  if (count(UPPER) < p.upper) out.push(`fewer than ${p.upper} upper-case letters`);
  if (count(LOWER) < p.lower) out.push(`fewer than ${p.lower} lower-case letters`);
  if (others < p.special) out.push(`fewer than ${p.special} special characters`);
  return out;
}

/** A password of `length` characters with at least the policy's counts of each class, uniformly placed. */
export function policyPassword(p: PasswordPolicy, length: number): string {
  const chars = [
    ...pick(UPPER, p.upper), ...pick(LOWER, p.lower), ...pick(DIGITS, p.digits), ...pick(SPECIAL, p.special),
  ];
  chars.push(...pick(ALNUM, Math.max(0, length - chars.length)));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  const first = chars.findIndex((c) => !SPECIAL.includes(c));
  if (first > 0) [chars[0], chars[first]] = [chars[first]!, chars[0]!];
  return chars.join('');
}

/** `n` characters drawn uniformly from `set` with the CSPRNG. */
const pick = (set: string, n: number): string[] => Array.from({ length: n }, () => set[randomInt(set.length)]!);

/** A line for `rotor plan`: the policy and the passwords Rotor will generate under it. */
export function describePolicy(p: PasswordPolicy, wanted: number): string {
  const asks = [`at least ${p.minLength} characters`, p.digits && `${p.digits} digits`, p.upper && `${p.upper} upper-case`, p.lower && `${p.lower} lower-case`, p.special && `${p.special} special`]
    .filter(Boolean).join(', ');
  const unchecked = p.unchecked.length ? `; not checked by Rotor: ${p.unchecked.join('; ')}` : '';
  return `password policy ${p.enforcedBy.join(', ')} (${asks}): generated passwords have ${lengthFor(p, wanted)} characters${p.special ? ', with - _ .' : ''}${unchecked}`;
}
