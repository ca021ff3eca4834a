import { Client } from 'pg';
import { testDatabaseUrl } from './test-environment';
import { uniqueName } from './test-infrastructure';

export interface ScratchDatabase {
  /** Connection URL of the new database: same server and credentials as `testDatabaseUrl`. */
  readonly url: string;
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>;
}

/**
 * A database of its own on the test server, for code whose schema names are fixed (a service migrates its
 * real `workflow` schema): it cannot clash with another run or test file, and dropping it cleans up all.
 */
export async function scratchDatabase(prefix = 'keel_scratch'): Promise<ScratchDatabase> {
  const name = uniqueName(prefix);
  await onServer(`CREATE DATABASE "${name}"`);
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

// CREATE/DROP DATABASE cannot run inside the database they concern, so they go through the test database.
async function onServer(sql: string): Promise<void> {
  const client = new Client({ connectionString: testDatabaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
