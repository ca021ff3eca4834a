import { Client } from 'pg';
import { scratchDatabase } from './scratch-database';
import { testDatabaseUrl } from './test-environment';

async function databaseExists(name: string): Promise<boolean> {
  const client = new Client({ connectionString: testDatabaseUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('scratchDatabase', () => {
  it('creates a database of its own on the test server, and drops it even while a client is connected', async () => {
    const first = await scratchDatabase('keel_scratch_spec');
    const second = await scratchDatabase('keel_scratch_spec');
    const name = new URL(first.url).pathname.slice(1);
    const client = new Client({ connectionString: first.url });
    await client.connect();
    client.on('error', () => undefined); // the forced drop ends this connection

    try {
      expect(name).toMatch(/^keel_scratch_spec_[0-9a-f]{10}$/);
      expect(new URL(second.url).pathname).not.toBe(new URL(first.url).pathname);
      expect(new URL(first.url).host).toBe(new URL(testDatabaseUrl).host);
      const { rows } = await client.query<{ name: string }>('SELECT current_database() AS name');
      expect(rows).toEqual([{ name }]);

      await first.drop();

      expect(await databaseExists(name)).toBe(false);
    } finally {
      await client.end().catch(() => undefined);
      await second.drop();
    }
  });
});
