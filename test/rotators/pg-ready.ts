/**
 * An admin client for a test PostgreSQL. The helper's server listens before it accepts
 * logins, and under load a first connection can meet "the database system is starting up"
 * (SQLSTATE 57P03): retried here, anything else thrown.
 */
import pg from 'pg';

export async function connectWhenReady(url: string): Promise<pg.Client> {
  for (let tries = 0; ; tries++) {
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => {});
    try {
      await c.connect();
      return c;
    } catch (err) {
      if ((err as { code?: string }).code !== '57P03' || tries > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
