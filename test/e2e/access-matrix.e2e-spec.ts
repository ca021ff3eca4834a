/** @jest-environment ./libs/retrieval/data-access/src/onnx-runtime.test-environment.js */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Role, roles } from '@keel/access';
import { readTopic, registeredRoutes, testKafka, testTokens, waitFor } from '@keel/testing';
import agentPolicy from '../../libs/decisioning/domain/src/policies/agent-policy.v1.json';
import guardrails from '../../libs/decisioning/domain/src/policies/guardrails.v1.json';
import decidePrompt from '../../libs/decisioning/domain/src/prompts/decide.prompt.v1.json';
import orderRouting from '../../libs/workflow-engine/src/templates/order-routing.workflow.json';
import { KeelPlatform, type ServiceName, serviceNames } from './fixtures/keel-platform';

/**
 * Every endpoint of every service × every role × no, expired and forged token → the expected 2xx, 401 or
 * 403, on the five services booted from their service definitions on real Kafka and Postgres; then no
 * tenant ever sees another's data. The rows are checked against the routes the services really register,
 * so an endpoint added without a row here fails this test.
 */

const tenant = 'acme';
const foreign = 'globex';

interface Request {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
}

interface Answer {
  readonly status: number;
  readonly text: string;
}

interface Row {
  /** `open`: served without a token (probes, metrics, the OpenAPI document); else the least role admitted. */
  readonly access: Role | 'open';
  /** A request to the endpoint for tenant acme, used for the refusals (nothing is prepared for those). */
  readonly request: Request;
  /** A request one admitted role makes, with the state it needs prepared fresh (default: `request`). */
  readonly prepare?: () => Promise<Request>;
  /** What an admitted caller gets: the endpoint's success, or (named at the row) its answer to the state. */
  readonly admitted: readonly number[];
  /** The probe request addresses acme's own resource (path or body): another tenant must get 403 or 404. */
  readonly addressesTenant?: boolean;
}

const admits: Readonly<Record<Role, readonly Role[]>> = {
  viewer: ['viewer', 'operator', 'approver', 'admin'],
  operator: ['operator', 'admin'],
  approver: ['approver', 'admin'],
  admin: ['admin'],
};

// Workflow definitions of this test: one that waits, one whose task keeps failing (so a step can be retried),
// one that asks governance for an approval (so the inbox has items).
const definitions = {
  'matrix-wait': {
    name: 'matrix-wait',
    version: 1,
    start: 'sleep',
    steps: {
      sleep: { kind: 'wait', durationMs: 600_000, next: 'done' },
      done: { kind: 'end', status: 'completed' },
    },
  },
  'matrix-retry': {
    name: 'matrix-retry',
    version: 1,
    start: 'call',
    steps: {
      call: {
        kind: 'task',
        connector: { type: 'http', service: 'nowhere', method: 'POST', path: '/never' },
        retry: { maxAttempts: 5, initialDelayMs: 600_000, backoffMultiplier: 1, maxDelayMs: 600_000 },
        timeoutMs: 2_000,
        next: 'done',
      },
      done: { kind: 'end', status: 'completed' },
    },
  },
  'matrix-approval': {
    name: 'matrix-approval',
    version: 1,
    start: 'ask',
    steps: {
      ask: {
        kind: 'approval',
        title: 'Matrix approval',
        approverRole: 'approver',
        timeoutMs: 600_000,
        onTimeout: 'reject',
        next: 'done',
      },
      done: { kind: 'end', status: 'completed' },
    },
  },
};

describe('access matrix: every service, endpoint, role and token', () => {
  const definitionsDir = mkdtempSync(join(tmpdir(), 'keel-access-matrix-'));
  let platform: KeelPlatform;
  let sequence = 0;
  const fresh = (prefix: string) => `${prefix}-${++sequence}`;

  async function send(service: ServiceName, request: Request, authorization?: string): Promise<Answer> {
    const response = await fetch(`${platform.url(service)}${request.path}`, {
      method: request.method,
      redirect: 'manual',
      headers: {
        ...(authorization === undefined ? {} : { authorization }),
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    });
    return { status: response.status, text: await response.text() };
  }

  /** As a setup step: the answer must be the expected one, or the test stops naming the call. */
  async function must<T = unknown>(
    service: ServiceName,
    request: Request,
    role: Role,
    status: number,
    subject?: string,
  ): Promise<T> {
    const authorization =
      subject === undefined
        ? await testTokens.bearer(tenant, role)
        : await testTokens.bearerFor({ subject, tenant, roles: [role] });
    const answer = await send(service, request, authorization);
    if (answer.status !== status) {
      throw new Error(`${service} ${request.method} ${request.path}: ${answer.status} ${answer.text}`);
    }
    return (answer.text === '' ? undefined : JSON.parse(answer.text)) as T;
  }

  beforeAll(async () => {
    for (const [name, definition] of Object.entries(definitions)) {
      writeFileSync(join(definitionsDir, `${name}.workflow.json`), JSON.stringify(definition));
    }
    const generous = '1000000';
    platform = await KeelPlatform.start(
      {
        INGESTION_RATE_LIMIT: generous,
        RETRIEVAL_RATE_LIMIT: generous,
        WORKFLOW_RATE_LIMIT: generous,
        GOVERNANCE_RATE_LIMIT: generous,
      },
      {
        workflow: {
          WORKFLOW_DEFINITIONS_DIR: definitionsDir,
          // Refused at once: the retry definition's task fails and waits for its (long) back-off.
          WORKFLOW_HTTP_SERVICES: 'nowhere=http://127.0.0.1:9',
        },
        governance: { GOVERNANCE_AUDIT_KEY: 'access-matrix-audit-key-0123456789abcdef' },
        // Decisioning looks knowledge up in retrieval with tokens it signs per tenant (a loaded machine embeds
        // a query slowly: a generous timeout, so a lookup is not recorded unavailable for want of time).
        decisioning: (urls) => ({ RETRIEVAL_URL: urls.retrieval ?? '', RETRIEVAL_TIMEOUT_MS: '20000' }),
      },
    );
    // Knowledge, through ingestion into retrieval; orders into the case topic.
    for (const file of ['knowledge-base', 'order-system']) {
      const events = readFileSync(join(__dirname, `../../data/samples/${file}.jsonl`), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as unknown);
      await must('ingestion', { method: 'POST', path: '/v1/events', body: { events } }, 'operator', 207);
    }
    // Five documents: returns-policy comes in two revisions.
    await waitFor(async () => (await indexedDocuments()).length >= 5, {
      timeoutMs: 120_000,
      what: 'the knowledge base indexed by retrieval',
    });
    await startInstance('matrix-wait', 'acme-seed');
    for (let n = 1; n <= 5; n++) await startInstance('matrix-approval', `acme-approval-${n}`);
    await waitFor(async () => (await pendingApprovals()).length >= 5, {
      timeoutMs: 60_000,
      what: "the workflow's approval requests in governance's inbox",
    });
    for (const [kind, name, content] of [
      ['agent-policy', 'support-agent', agentPolicy],
      ['prompt', 'decide', decidePrompt],
      ['guardrail-policy', 'guardrails', guardrails],
      ['workflow-template', 'order-routing', orderRouting],
    ] as const) {
      await must(
        'governance',
        { method: 'POST', path: `/v1/artifacts/${kind}/${name}/versions`, body: { content } },
        'operator',
        201,
      );
    }
    seedRelease = await approvedRelease();
    await must('governance', { method: 'POST', path: `/v1/releases/${seedRelease}/replay` }, 'operator', 201);
    approvalIds = await pendingApprovals();
  }, 300_000);

  afterAll(async () => {
    await platform?.stop();
    rmSync(definitionsDir, { recursive: true, force: true });
  });

  let seedRelease = '';

  const startInstance = (workflow: string, instanceId = fresh(`acme-${workflow}`)) =>
    must<{ instanceId: string }>(
      'workflow',
      {
        method: 'POST',
        path: '/instances',
        body: { instanceId, workflow, caseId: `acme-case-${instanceId}` },
      },
      'operator',
      201,
    ).then(() => instanceId);

  const indexedDocuments = async () => {
    const answer = await must<{ chunks: Array<{ documentId: string }> }>(
      'retrieval',
      {
        method: 'POST',
        path: '/v1/context-queries',
        body: { tenant, query: 'order carrier refund policy', limit: 50 },
      },
      'viewer',
      200,
    );
    return [...new Set(answer.chunks.map((chunk) => chunk.documentId))];
  };

  const pendingApprovals = async () =>
    (
      await must<Array<{ id: string }>>('governance', { method: 'GET', path: '/v1/approvals' }, 'viewer', 200)
    ).map((item) => item.id);

  const proposal = (id: string) => ({
    id,
    agentPolicy: { name: 'support-agent', version: 1 },
    prompt: { name: 'decide', version: 1 },
    model: 'offline-planner@1',
    guardrailPolicy: { name: 'guardrails', version: 1 },
    workflowTemplates: [{ name: 'order-routing', version: 1 }],
  });

  /** A release proposed and sent for review by its author, `stage` steps along. */
  async function releaseIn(stage: 'draft' | 'in-review' | 'approved'): Promise<string> {
    const id = fresh('matrix-release');
    const release = (step: string) => ({ method: 'POST', path: `/v1/releases/${id}/${step}` });
    await must(
      'governance',
      { method: 'POST', path: '/v1/releases', body: proposal(id) },
      'operator',
      201,
      'author',
    );
    if (stage === 'draft') return id;
    await must('governance', release('submit'), 'operator', 200, 'author');
    if (stage === 'in-review') return id;
    await must('governance', release('approve'), 'approver', 200, 'reviewer');
    return id;
  }
  const approvedRelease = () => releaseIn('approved');

  // Documents deleted by the admitted calls; `routing-policy` stays for the tenant checks.
  const deletable = ['carrier-slas', 'exception-runbook'];
  let approvalsTaken = 1;

  const rows = (): Record<ServiceName, Record<string, Row>> => {
    const open = (path: string, admitted: readonly number[] = [200]): Row => ({
      access: 'open',
      request: { method: 'GET', path },
      admitted,
    });
    const chassis = {
      'GET /health': open('/health'),
      'GET /health/live': open('/health/live'),
      'GET /health/ready': open('/health/ready'),
      'GET /metrics': open('/metrics'),
      'GET /openapi.json': open('/openapi.json'),
      'GET /docs': open('/docs', [200, 301]),
      'GET /docs/': open('/docs/'),
      'GET /docs-yaml': open('/docs-yaml'),
      'GET /docs/index.html': open('/docs/index.html'),
      'GET /docs/swagger-ui-init.js': open('/docs/swagger-ui-init.js'),
      'GET /docs/docs/swagger-ui-init.js': open('/docs/docs/swagger-ui-init.js'),
      // Routed by Swagger UI, but swagger-ui-dist ships no LICENSE file here: open either way.
      'GET /docs/LICENSE': open('/docs/LICENSE', [200, 404]),
    };
    const get = (path: string, access: Role = 'viewer', extra: Partial<Row> = {}): Row => ({
      access,
      request: { method: 'GET', path },
      admitted: [200],
      ...extra,
    });
    const post = (
      path: string,
      body: unknown,
      access: Role,
      admitted: readonly number[],
      extra: Partial<Row> = {},
    ): Row => ({
      access,
      request: { method: 'POST', path, body },
      admitted,
      ...extra,
    });
    const waitingRetry = async () => {
      const id = await startInstance('matrix-retry');
      await waitFor(
        async () => {
          const instance = await must<{ state: { executions: Record<string, { status: string }> } }>(
            'workflow',
            { method: 'GET', path: `/instances/${id}` },
            'viewer',
            200,
          );
          return instance.state.executions['call']?.status === 'retrying';
        },
        { timeoutMs: 30_000, what: `${id} waiting to retry its failed task` },
      );
      return id;
    };
    const artifact = '/v1/artifacts/prompt/decide';
    return {
      ingestion: {
        ...chassis,
        'GET /v1/sources': get('/v1/sources'),
        'POST /v1/events': {
          ...post('/v1/events', orderEvent('probe'), 'operator', [202], { addressesTenant: true }),
          prepare: () =>
            Promise.resolve({ method: 'POST', path: '/v1/events', body: orderEvent(fresh('os-matrix')) }),
        },
      },
      retrieval: {
        ...chassis,
        'POST /v1/context-queries': post(
          '/v1/context-queries',
          { tenant, query: 'carrier' },
          'viewer',
          [200],
          {
            addressesTenant: true,
          },
        ),
        'DELETE /v1/tenants/:tenant/documents/:documentId': {
          access: 'operator',
          request: { method: 'DELETE', path: `/v1/tenants/${tenant}/documents/routing-policy` },
          prepare: () => {
            const document = deletable.shift();
            if (document === undefined) throw new Error('no document left to delete');
            return Promise.resolve({ method: 'DELETE', path: `/v1/tenants/${tenant}/documents/${document}` });
          },
          admitted: [204],
          addressesTenant: true,
        },
      },
      decisioning: { ...chassis },
      workflow: {
        ...chassis,
        'GET /workflows': get('/workflows'),
        'GET /instances': get('/instances'),
        'GET /instances/:id': get('/instances/acme-seed', 'viewer', { addressesTenant: true }),
        'GET /instances/:id/history': get('/instances/acme-seed/history', 'viewer', {
          addressesTenant: true,
        }),
        'POST /instances': {
          ...post(
            '/instances',
            { workflow: 'matrix-wait', caseId: 'probe-case', instanceId: 'probe-instance' },
            'operator',
            [201],
          ),
          prepare: () =>
            Promise.resolve({
              method: 'POST',
              path: '/instances',
              body: {
                workflow: 'matrix-wait',
                caseId: 'acme-case-matrix',
                instanceId: fresh('acme-started'),
              },
            }),
        },
        'POST /instances/:id/cancel': {
          ...post('/instances/acme-seed/cancel', { reason: 'matrix' }, 'operator', [200], {
            addressesTenant: true,
          }),
          prepare: async () => ({
            method: 'POST',
            path: `/instances/${await startInstance('matrix-wait')}/cancel`,
            body: { reason: 'matrix' },
          }),
        },
        'POST /instances/:id/rerun-from': {
          ...post('/instances/acme-seed/rerun-from', { stepId: 'sleep' }, 'operator', [200], {
            addressesTenant: true,
          }),
          prepare: async () => ({
            method: 'POST',
            path: `/instances/${await startInstance('matrix-wait')}/rerun-from`,
            body: { stepId: 'sleep' },
          }),
        },
        'POST /instances/:id/retry-step': {
          ...post('/instances/acme-seed/retry-step', { stepId: 'call' }, 'operator', [200], {
            addressesTenant: true,
          }),
          prepare: async () => ({
            method: 'POST',
            path: `/instances/${await waitingRetry()}/retry-step`,
            body: { stepId: 'call' },
          }),
        },
      },
      governance: {
        ...chassis,
        'GET /v1/artifacts': get('/v1/artifacts'),
        'POST /v1/artifacts/:kind/:name/versions': {
          ...post('/v1/artifacts/prompt/matrix-probe/versions', { content: decidePrompt }, 'operator', [201]),
          prepare: () =>
            Promise.resolve({
              method: 'POST',
              path: `/v1/artifacts/prompt/${fresh('matrix-prompt')}/versions`,
              body: { content: decidePrompt },
            }),
        },
        'GET /v1/artifacts/:kind/:name/versions': get(`${artifact}/versions`, 'viewer', {
          addressesTenant: true,
        }),
        'GET /v1/artifacts/:kind/:name/versions/:version': get(`${artifact}/versions/1`, 'viewer', {
          addressesTenant: true,
        }),
        'GET /v1/artifacts/:kind/:name/diff': get(`${artifact}/diff?from=1&to=1`, 'viewer', {
          addressesTenant: true,
        }),
        'GET /v1/releases': get('/v1/releases'),
        'POST /v1/releases': {
          ...post('/v1/releases', proposal('matrix-probe'), 'operator', [201]),
          prepare: () =>
            Promise.resolve({
              method: 'POST',
              path: '/v1/releases',
              body: proposal(fresh('matrix-proposed')),
            }),
        },
        'POST /v1/releases/:id/submit': {
          ...post(`/v1/releases/${seedReleaseId()}/submit`, undefined, 'operator', [200], {
            addressesTenant: true,
          }),
          prepare: async () => ({ method: 'POST', path: `/v1/releases/${await releaseIn('draft')}/submit` }),
        },
        'POST /v1/releases/:id/approve': {
          ...post(`/v1/releases/${seedReleaseId()}/approve`, undefined, 'approver', [200], {
            addressesTenant: true,
          }),
          prepare: async () => ({
            method: 'POST',
            path: `/v1/releases/${await releaseIn('in-review')}/approve`,
          }),
        },
        'POST /v1/releases/:id/reject': {
          ...post(`/v1/releases/${seedReleaseId()}/reject`, { reason: 'matrix' }, 'approver', [200], {
            addressesTenant: true,
          }),
          prepare: async () => ({
            method: 'POST',
            path: `/v1/releases/${await releaseIn('in-review')}/reject`,
            body: { reason: 'matrix' },
          }),
        },
        'POST /v1/releases/:id/promote': {
          ...post(`/v1/releases/${seedReleaseId()}/promote`, { stage: 'shadow' }, 'operator', [200], {
            addressesTenant: true,
          }),
          prepare: async () => ({
            method: 'POST',
            path: `/v1/releases/${await approvedRelease()}/promote`,
            body: { stage: 'shadow' },
          }),
        },
        // Nothing was ever in production for acme: admitted, the rollback is refused by the release state (409).
        'POST /v1/releases/rollback': post('/v1/releases/rollback', { reason: 'matrix' }, 'operator', [409]),
        'POST /v1/releases/:id/replay': {
          ...post(`/v1/releases/${seedReleaseId()}/replay`, undefined, 'operator', [201], {
            addressesTenant: true,
          }),
          prepare: async () => ({ method: 'POST', path: `/v1/releases/${await approvedRelease()}/replay` }),
        },
        'GET /v1/releases/:id/replay': get(`/v1/releases/${seedReleaseId()}/replay`, 'viewer', {
          addressesTenant: true,
        }),
        'POST /v1/releases/:id/replay/override': {
          ...post(
            `/v1/releases/${seedReleaseId()}/replay/override`,
            { reason: 'matrix' },
            'admin',
            // Admitted, an override of a replay that passed its gate (no recorded decisions differ) is refused
            // as not needed (409); a blocked one would be overridden (200).
            [200, 409],
            {
              addressesTenant: true,
            },
          ),
          prepare: async () => {
            const id = await approvedRelease();
            await must('governance', { method: 'POST', path: `/v1/releases/${id}/replay` }, 'operator', 201);
            return { method: 'POST', path: `/v1/releases/${id}/replay/override`, body: { reason: 'matrix' } };
          },
        },
        'GET /v1/quality/shadow': get('/v1/quality/shadow'),
        // Admitted, drift is measured against the release in production; acme has none (404, named so).
        'GET /v1/quality/drift': get('/v1/quality/drift', 'viewer', { admitted: [200, 404] }),
        'POST /v1/quality/drift/evaluate': post(
          '/v1/quality/drift/evaluate',
          undefined,
          'operator',
          [200, 404],
        ),
        'GET /v1/audit/verify': get('/v1/audit/verify'),
        // A case id names no owner: another tenant's answer is its own (empty) rows, checked for acme's below.
        'GET /v1/audit/cases/:caseId': get('/v1/audit/cases/order-A-1001'),
        'GET /v1/audit/export': get('/v1/audit/export', 'operator'),
        'POST /v1/audit/retention': post(
          '/v1/audit/retention',
          { before: '2000-01-01T00:00:00Z' },
          'admin',
          [200],
        ),
        'GET /v1/cases/:caseId/lineage': get('/v1/cases/order-A-1001/lineage'),
        'GET /v1/approvals': get('/v1/approvals'),
        'GET /v1/approvals/:id': get(`/v1/approvals/${encodeURIComponent(seedApproval())}`, 'viewer', {
          addressesTenant: true,
        }),
        'POST /v1/approvals/:id/approve': {
          ...post(
            `/v1/approvals/${encodeURIComponent(seedApproval())}/approve`,
            { reason: 'matrix' },
            'approver',
            [200],
            {
              addressesTenant: true,
            },
          ),
          prepare: async () => ({
            method: 'POST',
            path: `/v1/approvals/${encodeURIComponent(await nextApproval())}/approve`,
            body: { reason: 'matrix' },
          }),
        },
        'POST /v1/approvals/:id/reject': {
          ...post(
            `/v1/approvals/${encodeURIComponent(seedApproval())}/reject`,
            { reason: 'matrix' },
            'approver',
            [200],
            {
              addressesTenant: true,
            },
          ),
          prepare: async () => ({
            method: 'POST',
            path: `/v1/approvals/${encodeURIComponent(await nextApproval())}/reject`,
            body: { reason: 'matrix' },
          }),
        },
        'POST /v1/api-keys': {
          ...post('/v1/api-keys', { client: 'matrix-probe', roles: ['viewer'] }, 'admin', [201]),
          prepare: () =>
            Promise.resolve({
              method: 'POST',
              path: '/v1/api-keys',
              body: { client: fresh('matrix-client'), roles: ['viewer'] },
            }),
        },
        // The credential exchange itself: no bearer token; an API key that is no key is 401, a real one 200.
        'POST /v1/tokens': {
          access: 'open',
          request: { method: 'POST', path: '/v1/tokens', body: { apiKey: 'keel_not_a_key' } },
          admitted: [401],
        },
      },
    };
  };

  const seedReleaseId = () => seedRelease;
  let approvalIds: string[] = [];
  const seedApproval = () => approvalIds[0] ?? 'none';
  const nextApproval = () => {
    const id = approvalIds[approvalsTaken++];
    if (id === undefined) throw new Error('no pending approval left');
    return Promise.resolve(id);
  };

  const orderEvent = (eventId: string) => ({
    tenant,
    system: 'order-system',
    eventType: 'order.placed',
    schemaVersion: 1,
    payload: {
      eventId,
      orderId: `M-${eventId}`,
      occurredAt: '2026-11-30T08:00:00Z',
      customerId: 'cust-matrix',
      region: 'EU',
      weightKg: 1,
      address: { country: 'DE', postalCode: '10115', city: 'Berlin', street: '1 Matrix Street' },
      lines: [{ sku: 'SKU-100', quantity: 1, unitPrice: 9.5 }],
    },
  });

  it('has a row for every route every service registers, and none for a route that is not served', () => {
    const table = rows();
    for (const name of serviceNames) {
      expect([name, Object.keys(table[name]).sort()]).toEqual([
        name,
        registeredRoutes(platform.services[name].app),
      ]);
    }
  });

  it("documents every guarded endpoint in its service's OpenAPI document, with bearer authentication", async () => {
    const table = rows();
    const undocumented: string[] = [];
    for (const name of serviceNames) {
      const document = JSON.parse((await send(name, { method: 'GET', path: '/openapi.json' })).text) as {
        info: { title: string };
        paths: Record<string, Record<string, { security?: Array<Record<string, unknown>> }>>;
      };
      expect(document.info.title).toBe(`Keel ${name}`);
      for (const [route, row] of Object.entries(table[name])) {
        if (row.access === 'open') continue;
        const [method = '', path = ''] = route.split(' ');
        const operation = document.paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
        if (!operation?.security?.some((scheme) => 'bearer' in scheme)) undocumented.push(`${name} ${route}`);
      }
    }
    expect(undocumented).toEqual([]);
  });

  it('answers every endpoint × role × no/expired/forged token with the admitted status, 401 or 403', async () => {
    const table = rows();
    const outcomes: string[] = [];
    const expected: string[] = [];
    const refusals = {
      none: undefined,
      expired: await testTokens.expired(tenant, 'admin'),
      forged: await testTokens.forged(tenant, 'admin'),
    };
    for (const name of serviceNames) {
      for (const [route, row] of Object.entries(table[name])) {
        const label = `${name} ${route}`;
        if (row.access === 'open') {
          const { status } = await send(name, row.request);
          outcomes.push(`${label} open ${row.admitted.includes(status) ? 'admitted' : status}`);
          expected.push(`${label} open admitted`);
          continue;
        }
        for (const [who, authorization] of Object.entries(refusals)) {
          outcomes.push(`${label} ${who} ${(await send(name, row.request, authorization)).status}`);
          expected.push(`${label} ${who} 401`);
        }
        for (const role of roles) {
          const allowed = admits[row.access].includes(role);
          const request = allowed && row.prepare ? await row.prepare() : row.request;
          const { status, text } = await send(name, request, await testTokens.bearer(tenant, role));
          outcomes.push(
            `${label} ${role} ${allowed ? (row.admitted.includes(status) ? 'admitted' : `${status} ${text}`) : status}`,
          );
          expected.push(`${label} ${role} ${allowed ? 'admitted' : 403}`);
        }
      }
    }
    expect(outcomes).toEqual(expected);
  });

  it("lets decisioning read the case's tenant's knowledge from retrieval with a token it signs", async () => {
    const eventId = fresh('os-knowledge');
    await must(
      'ingestion',
      { method: 'POST', path: '/v1/events', body: orderEvent(eventId) },
      'operator',
      202,
    );
    const [message] = await readTopic(
      testKafka(),
      platform.topics.decisions.name,
      1,
      (candidate) => candidate.key?.toString() === `order-M-${eventId}`,
    );
    const decision = JSON.parse(message?.value?.toString() ?? '{}') as {
      inputs: { chunks: Array<{ documentId: string }> };
    };
    expect(decision.inputs.chunks.length).toBeGreaterThan(0);
    const known = [
      'routing-policy',
      'carrier-slas',
      'exception-runbook',
      'support-routing',
      'returns-policy',
    ];
    expect(decision.inputs.chunks.every((chunk) => known.includes(chunk.documentId))).toBe(true);
  });

  it("never shows a tenant another tenant's data", async () => {
    const table = rows();
    const leaks: string[] = [];
    const globexAdmin = await testTokens.bearer(foreign, 'admin');
    for (const name of serviceNames) {
      for (const [route, row] of Object.entries(table[name])) {
        if (row.access === 'open') continue;
        const answer = await send(name, row.request, globexAdmin);
        // What names acme's resource is refused or not found; what another tenant may read holds none of acme's.
        if (row.addressesTenant === true && ![403, 404].includes(answer.status)) {
          leaks.push(`${name} ${route}: ${answer.status} ${answer.text.slice(0, 200)}`);
        }
        if (row.request.method === 'GET' && answer.status < 300 && answer.text.includes(tenant)) {
          leaks.push(`${name} ${route}: acme's data in ${answer.text.slice(0, 200)}`);
        }
      }
    }
    expect(leaks).toEqual([]);
    // And acme still has what the foreign calls aimed at.
    await must('workflow', { method: 'GET', path: '/instances/acme-seed' }, 'viewer', 200);
    expect(await indexedDocuments()).toContain('routing-policy');
    // The case the foreign calls asked about is acme's and has rows: what globex got was not for want of data.
    const caseRows = await waitFor(
      async () => {
        const rows = await must<unknown[]>(
          'governance',
          { method: 'GET', path: '/v1/audit/cases/order-A-1001' },
          'viewer',
          200,
        );
        return rows.length > 0 ? rows : undefined;
      },
      { timeoutMs: 30_000, what: "acme's audit rows of order-A-1001" },
    );
    expect(JSON.stringify(caseRows)).toContain(tenant);
  });
});
