/**
 * Quoting for the utility statements (ALTER ROLE, CREATE ROLE, GRANT) that PostgreSQL does
 * not accept bind parameters in. Identifiers are always quoted, so names that are keywords
 * or carry dots, dashes or capitals mean exactly what rotor.yaml says.
 */
export function ident(name: string): string {
  if (name.includes('\0')) throw new Error('identifier contains a NUL byte');
  return `"${name.replaceAll('"', '""')}"`;
}

/** A string literal under standard_conforming_strings (on by default since PostgreSQL 9.1). */
export function literal(text: string): string {
  if (text.includes('\0') || text.includes('\\')) throw new Error('literal contains a NUL byte or a backslash');
  return `'${text.replaceAll("'", "''")}'`;
}
