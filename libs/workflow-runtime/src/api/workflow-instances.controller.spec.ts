import { KeelHttpErrorFilter } from '@keel/observability';
import { canonicalJson, workflow } from '@keel/workflow-engine';
import { type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WorkflowExecutor } from '../execution/workflow-executor';
import { orchestration } from '../execution/orchestration.fixture';
import { DefinitionRegistry } from '../persistence/definition.registry';
import { WORKFLOW_REPOSITORIES, WORKFLOW_TRANSACTIONS } from '../persistence/workflow-repositories.tokens';
import { WorkflowInstancesController } from './workflow-instances.controller';

const nap = (version: number) =>
  workflow('nap', version).wait('sleep', { durationMs: 60_000, next: 'done' }).end('done').build();

describe('WorkflowInstancesController over in-memory repositories, answering through the one HTTP error filter', () => {
  let app: INestApplication;
  let url: string;
  let fakes: ReturnType<typeof orchestration>;

  beforeAll(async () => {
    fakes = orchestration([nap(1)]);
    @Module({
      controllers: [WorkflowInstancesController],
      providers: [
        { provide: WORKFLOW_TRANSACTIONS, useValue: fakes.transactions },
        { provide: WORKFLOW_REPOSITORIES, useValue: fakes.repositories },
        { provide: WorkflowExecutor, useValue: fakes.executor },
        { provide: DefinitionRegistry, useValue: fakes.registry },
      ],
    })
    class ApiModule {}
    app = await NestFactory.create(ApiModule, { logger: false });
    app.useGlobalFilters(new KeelHttpErrorFilter(app.getHttpAdapter()));
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(() => app.close());

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const get = async (path: string) => {
    const response = await fetch(`${url}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('starts an instance, then shows it, lists it and its history', async () => {
    const started = await post('/instances', {
      instanceId: 'nap-1',
      workflow: 'nap',
      caseId: 'case-1',
      tenant: 'acme',
    });
    expect(started).toEqual({ status: 201, body: { instanceId: 'nap-1', status: 'waiting' } });

    expect(await get('/instances/nap-1')).toMatchObject({
      status: 200,
      body: { instanceId: 'nap-1', workflow: { name: 'nap', version: 1 }, caseId: 'case-1', state: {} },
    });
    expect((await get('/instances?workflow=nap')).body).toMatchObject([{ instanceId: 'nap-1' }]);
    const history = await fetch(`${url}/instances/nap-1/history`);
    expect(await history.json()).toMatchObject([{ seq: 1, status: 'waiting' }]);
  });

  it('answers each error by its code: unknown 404, not applicable 409, bad body 400 naming the field', async () => {
    expect(await get('/instances/nope')).toMatchObject({ status: 404, body: { error: 'unknown-instance' } });
    expect(await post('/instances', { workflow: 'no-such', caseId: 'c', tenant: 't' })).toMatchObject({
      status: 404,
      body: { error: 'unknown-workflow' },
    });
    expect(await post('/instances/nap-1/cancel', { by: 'ops' })).toMatchObject({
      status: 400,
      body: { error: 'contract-violation', violations: [{ path: 'reason' }] },
    });
    await post('/instances/nap-1/cancel', { by: 'ops', reason: 'done with it' });
    expect(await post('/instances/nap-1/cancel', { by: 'ops', reason: 'again' })).toMatchObject({
      status: 409,
      body: { error: 'not-applicable' },
    });
  });

  it('answers a definition mismatch (the service resolved the wrong definition) 500, not 400', async () => {
    await post('/instances', { instanceId: 'nap-2', workflow: 'nap', caseId: 'c', tenant: 't' });
    // The instance is pinned to nap@2, and what is stored under nap@2 is another definition.
    const pinned = fakes.repositories.instanceRows.get('nap-2')!;
    pinned.state = { ...pinned.state, workflow: { ...pinned.state.workflow, version: 2 } };
    fakes.repositories.definitionRows.set('nap@2', {
      name: 'nap',
      version: 2,
      definition: JSON.parse(canonicalJson(workflow('other', 1).end('done').build())) as unknown,
    });

    expect(await post('/instances/nap-2/cancel', { by: 'ops', reason: 'r' })).toMatchObject({
      status: 500,
      body: { error: 'definition-mismatch' },
    });
  });
});
