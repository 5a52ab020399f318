/**
 * The pure parts of `mysql-password` that real servers here cannot reach: which account a
 * login lands on (anonymous accounts, netmasks, the order of patterns), how a process-list
 * host reads, and roles as MariaDB and MySQL print them.
 */
import { describe, expect, it } from 'vitest';
import { hostGenerality, hostMatches, matchingAccount, processClient, seenClient } from '../../src/rotators/mysql-password/accounts.js';
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
