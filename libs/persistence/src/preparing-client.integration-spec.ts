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
  const twice = async (text: string, values: unknown[]) => {
    await client.query(text, values);
    return client.query(text, values);
  };

  beforeEach(async () => {
    const PreparingClient = preparingClient(2);
    client = new PreparingClient({ connectionString: testDatabaseUrl });
    await client.connect();
  });
  afterEach(() => client.end());

  it('prepares a statement with parameters on its second run and runs it by name from then on', async () => {
    const sum = 'SELECT $1::int + $2::int AS sum';
    const first = await client.query<{ sum: number }>(sum, [1, 2]);
    expect(await preparedTexts()).toEqual([]);
    const second = await client.query<{ sum: number }>(sum, [40, 2]);
    const third = await client.query<{ sum: number }>(sum, [5, 5]);
    expect([first, second, third].map((result) => result.rows[0].sum)).toEqual([3, 42, 10]);
    expect(await preparedTexts()).toEqual([sum]);
  });

  it('sends statements without parameters as they are, several in one text included', async () => {
    await client.query('CREATE TEMP TABLE notes (body text); INSERT INTO notes VALUES ($$a$$)');
    const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM notes');
    expect(rows).toEqual([{ count: '1' }]);
    expect(await preparedTexts()).toEqual([]);
  });

  it('deallocates the least recently used statement past its capacity, and prepares it again when used', async () => {
    await twice('SELECT $1::int AS a', [1]);
    await twice('SELECT $1::int AS b', [1]);
    await client.query('SELECT $1::int AS a', [2]);
    await twice('SELECT $1::int AS c', [3]);
    expect(await preparedTexts()).toEqual(['SELECT $1::int AS a', 'SELECT $1::int AS c']);

    const again = await twice('SELECT $1::int AS b', [7]);
    expect(again.rows).toEqual([{ b: 7 }]);
    expect(await preparedTexts()).toEqual(['SELECT $1::int AS c', 'SELECT $1::int AS b']);
  });

  it('keeps a statement prepared in a transaction that rolled back', async () => {
    await client.query('BEGIN');
    await twice('SELECT $1::text AS word', ['inside']);
    await client.query('ROLLBACK');
    const { rows } = await client.query<{ word: string }>('SELECT $1::text AS word', ['after']);
    expect(rows).toEqual([{ word: 'after' }]);
    expect(await preparedTexts()).toEqual(['SELECT $1::text AS word']);
  });

  it('prepares a statement afresh once a migration changed the row type it returns', async () => {
    await client.query('CREATE TEMP TABLE notes (id int, body text)');
    await client.query('INSERT INTO notes VALUES (1, $1)', ['first']);
    const read = 'SELECT * FROM notes WHERE id = $1';
    await twice(read, [1]);
    await client.query('ALTER TABLE notes ADD COLUMN author text');

    await expect(client.query(read, [1])).rejects.toThrow('cached plan must not change result type');
    const { rows } = await twice(read, [1]);
    expect(rows).toEqual([{ id: 1, body: 'first', author: null }]);
  });

  it('reports a failing statement and prepares the next use afresh', async () => {
    await expect(twice('SELECT $1::int / 0 AS never', [1])).rejects.toThrow('division by zero');
    await expect(twice('SELECT nonsense FROM $1', [1])).rejects.toThrow('syntax error');
    const { rows } = await twice('SELECT $1::boolean AS ok', [true]);
    expect(rows).toEqual([{ ok: true }]);
  });
});
