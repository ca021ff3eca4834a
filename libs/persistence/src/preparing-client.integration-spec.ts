import { testDatabaseUrl } from '@keel/testing';
import type { Client } from 'pg';
import { preparingClient } from './preparing-client';

describe('preparingClient (real Postgres)', () => {
  let client: Client;

  const preparedTexts = async (): Promise<string[]> => {
    const { rows } = await client.query<{ statement: string }>(
      'SELECT statement FROM pg_prepared_statements ORDER BY prepare_time',
    );
    return rows.map((row) => row.statement);
  };

  beforeEach(async () => {
    const PreparingClient = preparingClient(2);
    client = new PreparingClient({ connectionString: testDatabaseUrl });
    await client.connect();
  });
  afterEach(() => client.end());

  it('prepares a statement with parameters once and runs it again by name', async () => {
    const first = await client.query<{ sum: number }>('SELECT $1::int + $2::int AS sum', [1, 2]);
    const second = await client.query<{ sum: number }>('SELECT $1::int + $2::int AS sum', [40, 2]);
    expect([first.rows[0].sum, second.rows[0].sum]).toEqual([3, 42]);
    expect(await preparedTexts()).toEqual(['SELECT $1::int + $2::int AS sum']);
  });

  it('sends statements without parameters as they are, several in one text included', async () => {
    await client.query('CREATE TEMP TABLE notes (body text); INSERT INTO notes VALUES ($$a$$)');
    const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM notes');
    expect(rows).toEqual([{ count: '1' }]);
    expect(await preparedTexts()).toEqual([]);
  });

  it('deallocates the least recently used statement past its capacity, and prepares it again when used', async () => {
    await client.query('SELECT $1::int AS a', [1]);
    await client.query('SELECT $1::int AS b', [1]);
    await client.query('SELECT $1::int AS a', [2]);
    await client.query('SELECT $1::int AS c', [3]);
    expect(await preparedTexts()).toEqual(['SELECT $1::int AS a', 'SELECT $1::int AS c']);

    const again = await client.query<{ b: number }>('SELECT $1::int AS b', [7]);
    expect(again.rows).toEqual([{ b: 7 }]);
    expect(await preparedTexts()).toEqual(['SELECT $1::int AS c', 'SELECT $1::int AS b']);
  });

  it('keeps a statement prepared in a transaction that rolled back', async () => {
    await client.query('BEGIN');
    await client.query('SELECT $1::text AS word', ['inside']);
    await client.query('ROLLBACK');
    const { rows } = await client.query<{ word: string }>('SELECT $1::text AS word', ['after']);
    expect(rows).toEqual([{ word: 'after' }]);
  });

  it("sends a text past the pool's capacity for texts unnamed", async () => {
    const PreparingClient = preparingClient(2, 1);
    const another = new PreparingClient({ connectionString: testDatabaseUrl });
    await another.connect();
    try {
      await another.query('SELECT $1::int AS first', [1]);
      const { rows } = await another.query<{ second: number }>('SELECT $1::int AS second', [2]);
      expect(rows).toEqual([{ second: 2 }]);
      const prepared = await another.query<{ statement: string }>(
        'SELECT statement FROM pg_prepared_statements',
      );
      expect(prepared.rows).toEqual([{ statement: 'SELECT $1::int AS first' }]);
    } finally {
      await another.end();
    }
  });

  it('reports a failing statement and prepares the next use afresh', async () => {
    await expect(client.query('SELECT $1::int / 0 AS never', [1])).rejects.toThrow('division by zero');
    await expect(client.query('SELECT nonsense FROM $1', [1])).rejects.toThrow('syntax error');
    const { rows } = await client.query<{ ok: boolean }>('SELECT $1::boolean AS ok', [true]);
    expect(rows).toEqual([{ ok: true }]);
  });
});
