import { scratchDatabase } from '@keel/testing';
import { RuntimeFixture, ScriptedConnector, oneTaskWorkflow } from '../execution/workflow-runtime.fixture';
import { postgresWorkflowRepositories } from './postgres-workflow-repositories';

/** The instance list takes each filter only when it is given (one statement text per combination, ADR 0035). */
describe('the Postgres instance list', () => {
  const repositories = postgresWorkflowRepositories('workflow');
  let fixture: RuntimeFixture;

  beforeAll(async () => {
    // A call that never answers keeps every instance running.
    const connector = new ScriptedConnector(() => new Promise(() => undefined));
    fixture = await RuntimeFixture.create(
      await scratchDatabase('keel_wf_list'),
      [oneTaskWorkflow('alpha'), oneTaskWorkflow('beta')],
      [connector],
    );
    await fixture.start('a-1', 'alpha');
    await fixture.start('a-2', 'alpha');
    await fixture.start('b-1', 'beta');
    await fixture.dataSource.query(`UPDATE workflow.instances SET status = 'cancelled' WHERE id = 'a-2'`);
  });
  afterAll(() => fixture.close());

  const ids = async (filter: { status?: string; workflow?: string; tenant?: string }) =>
    (await repositories.instances.list(fixture.dataSource.manager, { tenant: 'acme', limit: 10, ...filter }))
      .map(({ instanceId }) => instanceId)
      .sort();

  it('lists the tenant’s instances with no filter, by one filter, or by both', async () => {
    expect(await ids({})).toEqual(['a-1', 'a-2', 'b-1']);
    expect(await ids({ workflow: 'alpha' })).toEqual(['a-1', 'a-2']);
    expect(await ids({ status: 'cancelled' })).toEqual(['a-2']);
    expect(await ids({ status: 'running', workflow: 'alpha' })).toEqual(['a-1']);
    expect(await ids({ tenant: 'globex' })).toEqual([]);
  });
});
