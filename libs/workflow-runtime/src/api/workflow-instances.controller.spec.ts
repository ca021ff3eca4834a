import { AccessModule, AccessTokenSigner, type Role, accessConfigSchema } from '@keel/access';
import { KeelHttpErrorFilter } from '@keel/observability';
import { canonicalJson, workflow } from '@keel/workflow-engine';
import { type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { WorkflowExecutor } from '../execution/workflow-executor';
import { orchestration } from '../execution/orchestration.fixture';
import { DefinitionRegistry } from '../persistence/definition.registry';
import { WORKFLOW_REPOSITORIES, WORKFLOW_TRANSACTIONS } from '../persistence/workflow-repositories.tokens';
import { WorkflowInstancesController } from './workflow-instances.controller';

const access = accessConfigSchema.parse({ ACCESS_SHARED_KEY: 'workflow-api-spec-key-0123456789abcdef' });
const signer = new AccessTokenSigner(access);
const bearer = (tenant: string, role: Role) =>
  signer.bearer({ subject: `${role}@${tenant}`, tenant, roles: [role], ttlSeconds: 300 });

const nap = (version: number) =>
  workflow('nap', version).wait('sleep', { durationMs: 60_000, next: 'done' }).end('done').build();

describe('WorkflowInstancesController over in-memory repositories, answering through the one HTTP error filter', () => {
  let app: INestApplication;
  let url: string;
  let fakes: ReturnType<typeof orchestration>;

  beforeAll(async () => {
    fakes = orchestration([nap(1)]);
    @Module({
      imports: [
        AccessModule.forRoot(access),
        ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 1_000 }] }),
      ],
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

  const post = async (path: string, body: unknown, tenant = 'acme', role: Role = 'operator') => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: await bearer(tenant, role) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const get = async (path: string, tenant = 'acme', role: Role = 'viewer') => {
    const response = await fetch(`${url}${path}`, { headers: { authorization: await bearer(tenant, role) } });
    return { status: response.status, body: await response.json() };
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
    expect((await get('/instances/nap-1/history')).body).toMatchObject([{ seq: 1, status: 'waiting' }]);
  });

  it('answers each error by its code: unknown 404, not applicable 409, bad body 400 naming the field', async () => {
    expect(await get('/instances/nope')).toMatchObject({ status: 404, body: { error: 'unknown-instance' } });
    expect(await post('/instances', { workflow: 'no-such', caseId: 'c' })).toMatchObject({
      status: 404,
      body: { error: 'unknown-workflow' },
    });
    expect(await post('/instances/nap-1/cancel', {})).toMatchObject({
      status: 400,
      body: { error: 'contract-violation', violations: [{ path: 'reason' }] },
    });
    await post('/instances/nap-1/cancel', { by: 'ops', reason: 'done with it' });
    expect(await post('/instances/nap-1/cancel', { by: 'ops', reason: 'again' })).toMatchObject({
      status: 409,
      body: { error: 'not-applicable' },
    });
  });

  it("keeps each tenant to its own instances: another's is 404 on every read and command, and not listed", async () => {
    await post('/instances', { instanceId: 'globex-1', workflow: 'nap', caseId: 'g', input: {} }, 'globex');
    expect(await get('/instances/globex-1')).toMatchObject({
      status: 404,
      body: { error: 'unknown-instance' },
    });
    expect(await get('/instances/globex-1/history')).toMatchObject({ status: 404 });
    expect(await post('/instances/globex-1/cancel', { reason: 'not mine' })).toMatchObject({ status: 404 });
    expect(await post('/instances/globex-1/retry-step', { stepId: 'sleep' })).toMatchObject({ status: 404 });
    expect(await post('/instances/globex-1/rerun-from', { stepId: 'sleep' })).toMatchObject({ status: 404 });
    const listed = (await get('/instances')).body as Array<{ instanceId: string; tenant: string }>;
    expect(listed.map(({ tenant }) => tenant)).not.toContain('globex');
    expect(
      ((await get('/instances', 'globex')).body as Array<{ instanceId: string }>).map((i) => i.instanceId),
    ).toEqual(['globex-1']);
    expect((await get('/instances/globex-1', 'globex')).status).toBe(200);
  });

  it("refuses a body naming another tenant (403), a taken id of another tenant's (409, status unseen), a viewer's command (403) and no token (401)", async () => {
    expect(await post('/instances', { workflow: 'nap', caseId: 'c', tenant: 'globex' })).toMatchObject({
      status: 403,
      body: { error: 'wrong-tenant' },
    });
    expect(await post('/instances', { instanceId: 'globex-1', workflow: 'nap', caseId: 'c' })).toMatchObject({
      status: 409,
      body: { error: 'not-applicable' },
    });
    expect(await post('/instances', { workflow: 'nap', caseId: 'c' }, 'acme', 'viewer')).toMatchObject({
      status: 403,
      body: { error: 'missing-role' },
    });
    expect((await fetch(`${url}/instances`)).status).toBe(401);
  });

  it("records the token's subject as who cancelled, whatever the body says", async () => {
    await post('/instances', { instanceId: 'nap-3', workflow: 'nap', caseId: 'c' });
    await post('/instances/nap-3/cancel', { reason: 'done', by: 'someone-else' });
    const history = (await get('/instances/nap-3/history')).body as Array<{ input: { by?: string } }>;
    expect(history.at(-1)?.input).toMatchObject({ type: 'cancel', by: 'operator@acme' });
  });

  it('answers a definition mismatch (the service resolved the wrong definition) 500, not 400', async () => {
    await post('/instances', { instanceId: 'nap-2', workflow: 'nap', caseId: 'c', tenant: 'acme' });
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
