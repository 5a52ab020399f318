/**
 * The pure parts of `mysql-password` that real servers here cannot reach: which account a
 * login lands on (anonymous accounts, netmasks, the order of patterns), how a process-list
 * host reads, and password policies of MySQL's validate_password and MariaDB plugins not
 * installed here (cracklib_password_check), with the passwords generated for them.
 */
import { describe, expect, it } from 'vitest';
import { hostGenerality, hostMatches, matchingAccount, processClient, seenClient } from '../../src/rotators/mysql-password/accounts.js';
import { describePolicy, lengthFor, policyFrom, policyPassword, policyProblem, unmet } from '../../src/rotators/mysql-password/policy.js';
import { grantedRoles, mariadbDefaultRole } from '../../src/rotators/mysql-password/grants.js';
import { normalizeRoles } from '../../src/rotators/mysql-password/login.js';

describe('which account a login lands on', () => {
  const local = { name: 'localhost', ip: '127.0.0.1' };

  it('a literal host before a pattern, a longer literal prefix before a shorter one', () => {
    expect(hostGenerality('localhost')).toBe(0);
    const order = ['%', '10.%', '10.0.0.%', '10.0.0.1'].map(hostGenerality);
    expect([...order].sort((a, b) => b - a)).toEqual(order);
    const accounts = [{ user: 'app', host: '%' }, { user: 'app', host: '10.0.%' }, { user: 'app', host: '10.0.0.%' }];
    expect(matchingAccount(accounts, 'app', { ip: '10.0.0.9' })).toEqual({ user: 'app', host: '10.0.0.%' });
    expect(matchingAccount(accounts, 'app', { ip: '10.0.7.9' })).toEqual({ user: 'app', host: '10.0.%' });
    expect(matchingAccount(accounts, 'app', { ip: '192.168.1.1' })).toEqual({ user: 'app', host: '%' });
  });

  it("an anonymous account on a more specific host takes the login (''@'localhost' over 'app'@'%'), not on an equal one", () => {
    expect(matchingAccount([{ user: 'app', host: '%' }, { user: '', host: 'localhost' }], 'app', local)).toEqual({ user: '', host: 'localhost' });
    expect(matchingAccount([{ user: 'app', host: 'localhost' }, { user: '', host: 'localhost' }], 'app', local)).toEqual({ user: 'app', host: 'localhost' });
    expect(matchingAccount([{ user: 'app', host: '%' }, { user: '', host: '%' }], 'app', local)).toEqual({ user: 'app', host: '%' });
  });

  it('matches a name in any case or the address; _ is one character, \\ escapes; ip/netmask', () => {
    expect(hostMatches('app-_.internal', { name: 'APP-1.internal' })).toBe(true);
    expect(hostMatches('app-\\_.internal', { name: 'app-1.internal' })).toBe(false);
    expect(hostMatches('10.0.0.0/255.255.255.0', { ip: '10.0.0.77' })).toBe(true);
    expect(hostMatches('10.0.0.0/255.255.255.0', { ip: '10.0.1.77' })).toBe(false);
    expect(hostMatches('127.0.0.1', local)).toBe(true);
    expect(matchingAccount([{ user: 'app', host: '10.0.0.%' }], 'app', local)).toBeUndefined();
  });

  it('reads process-list hosts and USER() hosts', () => {
    expect(processClient('10.0.0.7:51432')).toEqual({ ip: '10.0.0.7' });
    expect(processClient('::1:40112')).toEqual({ ip: '::1' });
    expect(processClient('app-1.internal:40112')).toEqual({ name: 'app-1.internal' });
    expect(processClient('localhost')).toEqual({ name: 'localhost' });
    expect(seenClient('localhost', '127.0.0.1')).toEqual({ name: 'localhost', ip: '127.0.0.1' });
    expect(seenClient('10.0.0.7', '10.0.0.7')).toEqual({ ip: '10.0.0.7' });
  });
});

describe('roles in SHOW GRANTS', () => {
  it('reads granted and default roles as MariaDB and MySQL print them, and compares CURRENT_ROLE() with them', () => {
    const maria = ['GRANT `r1`, `r2` TO `app`@`%`', 'GRANT USAGE ON *.* TO `app`@`%`', 'SET DEFAULT ROLE `r1` FOR `app`@`%`'];
    expect(grantedRoles(maria, 'app', '%')).toEqual(['`r1`', '`r2`']);
    expect(mariadbDefaultRole(maria, 'app', '%')).toBe('`r1`');
    expect(mariadbDefaultRole(maria.slice(0, 2), 'app', '%')).toBe('NONE');
    expect(grantedRoles(['GRANT `reader`@`%` TO `app`@`%` WITH ADMIN OPTION'], 'app', '%')).toEqual(['`reader`@`%`']);
    expect(normalizeRoles('`b`@`%`,`a`@`%`')).toBe(normalizeRoles("'a'@'%', 'b'@'%'"));
    expect(normalizeRoles('NONE')).toBe('');
    expect(normalizeRoles('r1')).toBe(normalizeRoles('`r1`'));
  });
});

describe('password policies', () => {
  const vars = (o: Record<string, string>) => new Map(Object.entries(o));
  const ok = (policy: ReturnType<typeof policyFrom>, n = 200) => {
    for (let i = 0; i < n; i++) {
      const p = policyPassword(policy, lengthFor(policy, 32));
      expect(unmet(policy, p)).toEqual([]);
      expect(p).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
    }
  };

  it("MySQL validate_password (component and 5.7 plugin): MEDIUM counts, LOW length only, STRONG's dictionary noted", () => {
    const medium = policyFrom({ mariadb: false, plugins: [], variables: vars({ 'validate_password.length': '20', 'validate_password.mixed_case_count': '2', 'validate_password.number_count': '3', 'validate_password.special_char_count': '4', 'validate_password.policy': 'MEDIUM' }) });
    expect(medium).toMatchObject({ enforcedBy: ['validate_password (MEDIUM)'], minLength: 20, digits: 3, upper: 2, lower: 2, special: 4, refusesHashes: false });
    expect(lengthFor(medium, 32)).toBe(32);
    ok(medium);
    const plugin = policyFrom({ mariadb: false, plugins: [], variables: vars({ validate_password_length: '40', validate_password_policy: '2', validate_password_special_char_count: '1', validate_password_dictionary_file: '/etc/words' }) });
    expect(plugin).toMatchObject({ enforcedBy: ['validate_password (STRONG)'], minLength: 40, special: 1, lengthVariable: 'validate_password_length' });
    expect(plugin.unchecked).toEqual([expect.stringMatching(/dictionary/)]);
    expect(lengthFor(plugin, 32)).toBe(40);
    const low = policyFrom({ mariadb: false, plugins: [], variables: vars({ 'validate_password.length': '8', 'validate_password.policy': 'LOW', 'validate_password.special_char_count': '5' }) });
    expect(low).toMatchObject({ minLength: 8, special: 0 });
    expect(policyFrom({ mariadb: false, plugins: [], variables: vars({}) }).enforcedBy).toEqual([]);
  });

  it('MariaDB: cracklib and password_reuse_check noted; strict validation with any plugin refuses hashes; too long refused naming the variable', () => {
    const crack = policyFrom({ mariadb: true, plugins: ['cracklib_password_check', 'password_reuse_check'], variables: vars({ strict_password_validation: 'OFF' }) });
    expect(crack).toMatchObject({ minLength: 8, refusesHashes: false });
    expect(crack.unchecked).toHaveLength(2);
    expect(policyProblem(crack, 'target db', 32)).toBeUndefined();
    ok(crack, 20);
    expect(policyFrom({ mariadb: true, plugins: ['password_reuse_check'], variables: vars({}) }).refusesHashes).toBe(true);
    const long = policyFrom({ mariadb: true, plugins: ['simple_password_check'], variables: vars({ strict_password_validation: 'OFF', simple_password_check_minimal_length: '129' }) });
    expect(policyProblem(long, 'target db', 32)?.hint).toBe('lower simple_password_check_minimal_length to 128 or less');
    expect(policyProblem(long, 'target db', 32)?.outcome).toBe('usage');
  });

  it('generated passwords: every count met, only - _ . besides letters and digits, never a special first, even when specials fill most of it', () => {
    const heavy = policyFrom({ mariadb: true, plugins: ['simple_password_check'], variables: vars({ strict_password_validation: 'OFF', simple_password_check_other_characters: '30', simple_password_check_digits: '0', simple_password_check_letters_same_case: '0', simple_password_check_minimal_length: '8' }) });
    expect(lengthFor(heavy, 16)).toBe(31);
    ok(heavy, 50);
    expect(unmet(heavy, 'abc')).toEqual(['fewer than 30 characters', 'fewer than 30 special characters']);
    expect(describePolicy(heavy, 16)).toBe('password policy simple_password_check (at least 30 characters, 30 special): generated passwords have 31 characters, with - _ .');
  });
});
