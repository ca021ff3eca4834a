import { type Role } from '@keel/access';
import { loadConfig } from '@keel/config';
import { type CloudEvent, type KafkaRecord, decodeEvent, namespacedTopics } from '@keel/contracts';
import { governanceConfigSchema } from '@keel/governance-feature';
import { EventPublisher, KafkaRecordSender, ensureTopics, topicSpecsWithDeadLetters } from '@keel/messaging';
import { startServiceApp } from '@keel/observability';
import {
  type ScratchDatabase,
  readTopic,
  sampleEvent,
  callJson,
  deleteNamespaceTopics,
  scratchDatabase,
  silentLogger,
  testAccessEnv,
  testKafka,
  testKafkaBrokers,
  testTokens,
  testTopicScope,
  validTopicData,
  waitFor,
} from '@keel/testing';
import { type INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { governanceService } from '../../apps/governance/src/governance.service';

interface Item {
  id: string;
  kind: string;
  caseId: string;
  status: string;
  approverRole: string;
  escalated: boolean;
  dueAt?: string;
  decidedBy?: string;
  reason?: string;
}

interface Lineage {
  caseId: string;
  entries: Array<{ stage: string; at: string; eventId: string; detail: Record<string, unknown> }>;
}

/**
 * The approvals inbox, lineage and audit retention of the governance service on real Kafka and Postgres:
 * workflow approval requests and guardrail holds are listed, escalations re-route them, answers go out
 * through the outbox from `urn:keel:governance`, four-eyes refuses the case's author and the requester,
 * lineage follows a case from its raw source event, and pruning leaves `verify` intact from a signed cut.
 */
describe('governance approvals inbox, lineage and retention', () => {
  const namespace = testTopicScope('inbox');
  const topics = namespacedTopics(namespace);
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const publisher = new EventPublisher(sender);
  const tenant = 'acme';
  let database: ScratchDatabase;
  let client: Client;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    database = await scratchDatabase('keel_governance_inbox');
    client = new Client({ connectionString: database.url });
    await client.connect();
    await ensureTopics(kafka, topicSpecsWithDeadLetters(Object.values(topics)));
    const config = loadConfig(governanceConfigSchema, {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
      KEEL_TOPIC_NAMESPACE: namespace,
      OUTBOX_POLL_MS: '50',
      PORT: '0',
      ...testAccessEnv,
      GOVERNANCE_AUDIT_KEY: 'governance-inbox-audit-key-0123456789abcdef',
      GOVERNANCE_RATE_LIMIT: '100000',
      // Holds wait an hour from their decision's time, then go to the escalation role.
      GOVERNANCE_HOLD_TIMEOUT_MS: '3600000',
      GOVERNANCE_HOLD_ESCALATE_TO: 'approval-manager',
      GOVERNANCE_INBOX_POLL_MS: '100',
    });
    app = await startServiceApp(governanceService, config, silentLogger('governance'));
    url = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
    await client?.end();
    await database?.drop();
    await sender.disconnect();
    await deleteNamespaceTopics(kafka, namespace);
  });

  /** A bearer token naming who acts (four-eyes tells approvers apart), for `forTenant`. */
  const token = (subject: string, roles: readonly Role[], forTenant = tenant): Promise<string> =>
    testTokens.bearerFor({ subject, tenant: forTenant, roles });

  const call = <Body = unknown>(method: string, path: string, authorization?: string, body?: unknown) =>
    callJson<Body>(method, `${url}${path}`, { authorization, body });


  const envelope = (id: string, subject: string, extra: Partial<CloudEvent> = {}) => ({
    id: `${namespace}-${id}`,
    idempotencykey: `${namespace}-${id}`,
    subject,
    tenant,
    correlationid: `corr-${subject}`,
    time: new Date().toISOString(),
    ...extra,
  });

  const pending = async (bearer: string, query = ''): Promise<Item[]> =>
    (await call<Item[]>('GET', `/v1/approvals${query}`, bearer)).body;

  const approvalRequest = (instanceId: string, role: string, dueAt: string, id: string) =>
    sampleEvent(
      topics.approvals,
      {
        status: 'requested',
        approvalId: `${instanceId}/approve/1`,
        instanceId,
        stepId: 'approve',
        run: 1,
        title: `Refund on ${instanceId}`,
        approverRole: role,
        dueAt,
      },
      { ...envelope(id, `case-${instanceId}`), source: 'urn:keel:workflow', type: 'keel.approval.requested' },
    );

  it('lists a workflow approval step, refuses its case author, publishes the approver’s answer', async () => {
    const viewer = await token('vera', ['viewer']);
    // The case names its author; the author may not approve anything on it.
    await publisher.publish(topics.caseEvents, [
      sampleEvent(
        topics.caseEvents,
        { ...(validTopicData.caseEvents as object), caseId: 'case-wf-1', attributes: { author: 'alice' } },
        envelope('case-wf-1', 'case-wf-1'),
      ),
    ]);
    await publisher.publish(topics.approvals, [
      approvalRequest('wf-1', 'ops-lead', '2030-01-01T00:00:00.000Z', 'request-wf-1'),
    ]);
    const [item] = await waitFor(
      async () => {
        const items = await pending(viewer);
        return items.some((entry) => entry.id === 'wf-1/approve/1') ? items : undefined;
      },
      { what: 'the approval request in the inbox' },
    );
    expect(item).toMatchObject({
      kind: 'workflow-step',
      caseId: 'case-wf-1',
      status: 'pending',
      escalated: false,
    });
    const id = encodeURIComponent('wf-1/approve/1');
    // The case event comes on another topic: once its row is in the lineage, its author is known too.
    const detail = await waitFor(
      async () => {
        const answer = await call<{ item: Item; lineage: Lineage }>('GET', `/v1/approvals/${id}`, viewer);
        return answer.body.lineage.entries.length === 2 ? answer.body : undefined;
      },
      { what: 'the case event and the request in the lineage' },
    );
    expect(detail.lineage.entries.map((entry) => entry.stage)).toEqual(['normalized-event', 'approval']);

    // Roles: a viewer lists but does not decide; no token is 401; a reason is required.
    expect((await call('POST', `/v1/approvals/${id}/approve`, viewer, { reason: 'fine' })).status).toBe(403);
    expect((await call('POST', `/v1/approvals/${id}/approve`, undefined, { reason: 'fine' })).status).toBe(
      401,
    );
    const bob = await token('bob', ['approver']);
    expect((await call('POST', `/v1/approvals/${id}/approve`, bob, {})).status).toBe(400);
    // The case's author is refused (four-eyes).
    const alice = await token('alice', ['approver']);
    expect(await call('POST', `/v1/approvals/${id}/approve`, alice, { reason: 'mine' })).toMatchObject({
      status: 403,
      body: { error: 'four-eyes' },
    });
    // Another tenant does not see it.
    expect(
      (await call('GET', `/v1/approvals/${id}`, await token('bob', ['approver'], 'globex'))).status,
    ).toBe(404);

    const approved = await call<Item>('POST', `/v1/approvals/${id}/approve`, bob, {
      reason: 'within policy',
    });
    expect(approved).toMatchObject({
      status: 200,
      body: { status: 'granted', decidedBy: 'bob', reason: 'within policy' },
    });
    expect(
      (await call('POST', `/v1/approvals/${id}/reject`, bob, { reason: 'changed my mind' })).status,
    ).toBe(409);

    const [answer] = await readTopic(kafka, topics.approvals.name, 1, (message) =>
      (message.value?.toString() ?? '').includes('"granted"'),
    );
    const event = decodeEvent(topics.approvals, answer as unknown as KafkaRecord);
    expect(event).toMatchObject({
      source: 'urn:keel:governance',
      type: 'keel.approval.granted',
      subject: 'case-wf-1',
      tenant,
      data: {
        status: 'granted',
        approvalId: 'wf-1/approve/1',
        instanceId: 'wf-1',
        stepId: 'approve',
        run: 1,
        decidedBy: 'bob',
      },
    });
    expect(await pending(viewer)).not.toContainEqual(expect.objectContaining({ id: 'wf-1/approve/1' }));
  });

  it('shows an escalation under the new role and closes a step the workflow withdrew', async () => {
    const viewer = await token('vera', ['viewer']);
    await publisher.publish(topics.approvals, [
      approvalRequest('wf-2', 'ops-lead', '2030-01-01T00:00:00.000Z', 'request-wf-2'),
    ]);
    await waitFor(
      async () => (await pending(viewer, '?role=ops-lead')).some((entry) => entry.id === 'wf-2/approve/1'),
      {
        what: 'the request routed to ops-lead',
      },
    );
    // The step timed out: the workflow asks again of its escalation role with a new deadline.
    await publisher.publish(topics.approvals, [
      approvalRequest('wf-2', 'ops-manager', '2030-01-02T00:00:00.000Z', 'escalate-wf-2'),
    ]);
    const [escalated] = await waitFor(
      async () => {
        const items = await pending(viewer, '?role=ops-manager');
        return items.length > 0 ? items : undefined;
      },
      { what: 'the escalated request under ops-manager' },
    );
    expect(escalated).toMatchObject({ id: 'wf-2/approve/1', escalated: true, approverRole: 'ops-manager' });
    expect(await pending(viewer, '?role=ops-lead')).not.toContainEqual(
      expect.objectContaining({ id: 'wf-2/approve/1' }),
    );

    await publisher.publish(topics.workflowEvents, [
      sampleEvent(
        topics.workflowEvents,
        {
          instanceId: 'wf-2',
          template: 'refund',
          templateVersion: 1,
          sequence: 5,
          transition: 'approval.withdrawn',
          stepId: 'approve',
          status: 'cancelled',
          detail: { run: 1 },
        },
        {
          ...envelope('withdrawn-wf-2', 'case-wf-2'),
          source: 'urn:keel:workflow',
          type: 'keel.workflow.transition',
        },
      ),
    ]);
    await waitFor(
      async () =>
        (await pending(viewer, '?status=withdrawn')).some((entry) => entry.id === 'wf-2/approve/1') ||
        undefined,
      { what: 'the withdrawn step closed in the inbox' },
    );
    expect((await call('GET', '/v1/approvals?status=bogus', viewer)).status).toBe(400);
  });

  it('holds a guardrail decision, starts its workflow once approved, and shows the whole lineage', async () => {
    const caseId = 'case-hold-1';
    const raw = sampleEvent(topics.sourceRaw, validTopicData.sourceRaw, {
      ...envelope('raw-hold-1', `${tenant}/shop`),
      source: 'urn:keel:ingestion-client',
      type: 'keel.source.received',
    });
    await publisher.publish(topics.sourceRaw, [raw]);
    await publisher.publish(topics.caseEvents, [
      sampleEvent(
        topics.caseEvents,
        { ...(validTopicData.caseEvents as object), caseId, attributes: { requestedBy: 'carol' } },
        {
          ...envelope('case-hold-1', caseId),
          causationid: raw.id,
          source: 'urn:keel:ingestion',
          type: 'keel.case.order',
        },
      ),
    ]);
    const decision = {
      ...(validTopicData.decisions as Record<string, unknown>),
      decisionId: `${namespace}-dec-hold-1`,
      caseId,
      requiresApproval: true,
      risk: 'high',
      rulesEvaluated: [{ rule: 'high-value', inputs: { amount: 900 }, result: true }],
    };
    await publisher.publish(topics.decisions, [
      sampleEvent(topics.decisions, decision, {
        ...envelope('decision-hold-1', caseId),
        source: 'urn:keel:decisioning',
        type: 'keel.decision.made',
      }),
    ]);
    const viewer = await token('vera', ['viewer']);
    const id = encodeURIComponent(`hold:${namespace}-dec-hold-1`);
    await waitFor(
      async () => (await call('GET', `/v1/approvals/${id}`, viewer)).status === 200 || undefined,
      {
        what: 'the held decision in the inbox',
      },
    );
    await waitFor(
      async () => {
        const answer = await call<{ lineage: Lineage }>('GET', `/v1/approvals/${id}`, viewer);
        return answer.body.lineage.entries.some((entry) => entry.stage === 'normalized-event') || undefined;
      },
      { what: 'the case event in the lineage' },
    );
    // carol asked for it on the case; she may not release its hold.
    const carol = await token('carol', ['approver']);
    expect((await call('POST', `/v1/approvals/${id}/approve`, carol, { reason: 'ok' })).status).toBe(403);
    const dan = await token('dan', ['approver']);
    expect(
      await call('POST', `/v1/approvals/${id}/approve`, dan, { reason: 'checked the refund' }),
    ).toMatchObject({
      status: 200,
      body: { kind: 'guardrail-hold', status: 'granted', decidedBy: 'dan' },
    });
    const [command] = await readTopic(kafka, topics.workflowCommands.name, 1);
    expect(decodeEvent(topics.workflowCommands, command as unknown as KafkaRecord)).toMatchObject({
      source: 'urn:keel:governance',
      subject: caseId,
      data: {
        command: 'start',
        instanceId: `${namespace}-dec-hold-1`,
        template: 'order-routing',
        input: { orderId: 'o-1', caseId },
      },
    });

    const lineage = await waitFor(
      async () => {
        const answer = await call<Lineage>('GET', `/v1/cases/${caseId}/lineage`, viewer);
        return answer.body.entries?.some((entry) => entry.stage === 'workflow-command')
          ? answer.body
          : undefined;
      },
      { what: 'the start command in the lineage' },
    );
    expect(lineage.entries.map((entry) => entry.stage)).toEqual([
      'source-event',
      'normalized-event',
      'retrieved-chunks',
      'decision',
      'approval',
      'workflow-command',
    ]);
    const decisionEntry = lineage.entries.find((entry) => entry.stage === 'decision');
    expect(decisionEntry?.detail).toMatchObject({
      versions: { agentPolicy: { name: 'order-agent', version: 3 }, model: 'offline-planner@1' },
      rulesEvaluated: [{ rule: 'high-value', result: true }],
      requiresApproval: true,
    });
    expect(lineage.entries.find((entry) => entry.stage === 'approval')?.detail).toMatchObject({
      status: 'granted',
      decidedBy: 'dan',
      reason: 'checked the refund',
    });
    for (let index = 1; index < lineage.entries.length; index += 1)
      expect(lineage.entries[index].at >= lineage.entries[index - 1].at).toBe(true);
    // Tenant-scoped: another tenant's auditor sees nothing of the case.
    const other = await call<Lineage>(
      'GET',
      `/v1/cases/${caseId}/lineage`,
      await token('vera', ['viewer'], 'globex'),
    );
    expect(other.body.entries).toEqual([]);
  });

  it('escalates a hold past its deadline to the escalation role, once, with an approval request event', async () => {
    const caseId = 'case-hold-late';
    const decisionId = `${namespace}-dec-hold-late`;
    await publisher.publish(topics.decisions, [
      sampleEvent(
        topics.decisions,
        {
          ...(validTopicData.decisions as Record<string, unknown>),
          decisionId,
          caseId,
          requiresApproval: true,
          risk: 'high',
        },
        {
          ...envelope('decision-hold-late', caseId),
          source: 'urn:keel:decisioning',
          type: 'keel.decision.made',
          // Decided two hours ago: its hour to be answered is over.
          time: new Date(Date.now() - 7_200_000).toISOString(),
        },
      ),
    ]);
    const viewer = await token('vera', ['viewer']);
    const [escalated] = await waitFor(
      async () => {
        const items = await pending(viewer, '?role=approval-manager');
        return items.some((item) => item.id === `hold:${decisionId}`) ? items : undefined;
      },
      { what: 'the late hold under the escalation role' },
    );
    expect(escalated).toMatchObject({
      kind: 'guardrail-hold',
      escalated: true,
      approverRole: 'approval-manager',
    });
    const [request] = await readTopic(kafka, topics.approvals.name, 1, (message) =>
      (message.value?.toString() ?? '').includes(`hold:${decisionId}`),
    );
    expect(decodeEvent(topics.approvals, request as unknown as KafkaRecord)).toMatchObject({
      source: 'urn:keel:governance',
      type: 'keel.approval.requested',
      subject: caseId,
      data: { status: 'requested', approvalId: `hold:${decisionId}`, approverRole: 'approval-manager' },
    });
    const lineage = await waitFor(
      async () => {
        const body = (await call<Lineage>('GET', `/v1/cases/${caseId}/lineage`, viewer)).body;
        return body.entries.some((entry) => entry.stage === 'approval') ? body : undefined;
      },
      { what: 'the escalation in the lineage' },
    );
    expect(lineage.entries.map((entry) => entry.stage)).toEqual(['retrieved-chunks', 'decision', 'approval']);
    // Escalated once: the sweeps after it (every 100 ms) write no second request.
    const seen = Date.now();
    await waitFor(() => Date.now() > seen + 1_000, { what: 'ten more sweeps' });
    expect(Date.parse(escalated.dueAt ?? '')).toBeGreaterThan(Date.now());
    const escalations = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM governance.outbox WHERE convert_from(value, 'UTF8') LIKE $1`,
      [`%hold:${decisionId}%`],
    );
    expect(Number(escalations.rows[0]?.n)).toBe(1);
  });

  it('answers every inbox, lineage and retention endpoint by role: 401 without a valid token, 403 below its role', async () => {
    const missing = encodeURIComponent('no/such/1');
    const endpoints: Array<{ method: string; path: string; role: Role; body?: unknown }> = [
      { method: 'GET', path: '/v1/approvals', role: 'viewer' },
      { method: 'GET', path: `/v1/approvals/${missing}`, role: 'viewer' },
      { method: 'POST', path: `/v1/approvals/${missing}/approve`, role: 'approver', body: { reason: 'x' } },
      { method: 'POST', path: `/v1/approvals/${missing}/reject`, role: 'approver', body: { reason: 'x' } },
      { method: 'GET', path: '/v1/cases/case-none/lineage', role: 'viewer' },
      // A cut before the epoch prunes nothing: the matrix leaves the chain as it is.
      {
        method: 'POST',
        path: '/v1/audit/retention',
        role: 'admin',
        body: { before: '1970-01-02T00:00:00Z' },
      },
    ];
    const holds: Record<Role, readonly Role[]> = {
      viewer: ['viewer', 'operator', 'approver', 'admin'],
      operator: ['operator', 'admin'],
      approver: ['approver', 'admin'],
      admin: ['admin'],
    };
    const roles: Role[] = ['viewer', 'operator', 'approver', 'admin'];
    const expired = await testTokens.expired(tenant, 'admin');
    const forged = await testTokens.forged(tenant, 'admin');
    for (const endpoint of endpoints) {
      const statusWith = async (bearer?: string) =>
        (await call(endpoint.method, endpoint.path, bearer, endpoint.body)).status;
      expect([endpoint.path, 'none', await statusWith()]).toEqual([endpoint.path, 'none', 401]);
      expect([endpoint.path, 'expired', await statusWith(expired)]).toEqual([endpoint.path, 'expired', 401]);
      expect([endpoint.path, 'forged', await statusWith(forged)]).toEqual([endpoint.path, 'forged', 401]);
      for (const role of roles) {
        const status = await statusWith(await token(`as-${role}`, [role]));
        const allowed = holds[endpoint.role].includes(role);
        // Allowed calls reach the handler: 200, or 404 for the approval that does not exist.
        expect([endpoint.path, role, allowed ? [200, 404].includes(status) : status === 403]).toEqual([
          endpoint.path,
          role,
          true,
        ]);
      }
    }
  });

  it('prunes old rows behind a signed checkpoint; verify and export start from it; tampering still shows', async () => {
    const viewer = await token('vera', ['viewer']);
    const admin = await token('ada', ['admin']);
    const verify = async () => (await call<Record<string, unknown>>('GET', '/v1/audit/verify', viewer)).body;
    const before = await waitFor(
      async () => {
        const verdict = await verify();
        return verdict.intact === true && Number(verdict.rows) >= 8 ? verdict : undefined;
      },
      { what: 'the tests’ events in the chain' },
    );
    const total = Number(before.rows);
    // Rows 1–4 are made old; the cut lands after row 4.
    await client.query(
      `UPDATE governance.audit_log SET recorded_at = now() - interval '400 days' WHERE tenant = $1 AND position <= 4`,
      [tenant],
    );
    expect(
      (await call('POST', '/v1/audit/retention', viewer, { before: new Date().toISOString() })).status,
    ).toBe(403);
    expect((await call('POST', '/v1/audit/retention', admin, { before: 'yesterday' })).status).toBe(400);
    const cutoff = new Date(Date.now() - 365 * 86_400_000).toISOString();
    const pruned = await call<{ prunedRows: number; checkpoint: { position: number } }>(
      'POST',
      '/v1/audit/retention',
      admin,
      { before: cutoff },
    );
    expect(pruned).toMatchObject({ status: 200, body: { prunedRows: 4, checkpoint: { position: 4 } } });
    const after = await verify();
    expect(after).toMatchObject({ intact: true });
    expect(Number(after.rows)).toBeGreaterThanOrEqual(total - 4);
    const exported = await call<string>('GET', '/v1/audit/export', await token('otto', ['operator']));
    const lines = exported.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ checkpoint: { position: 4, prunedRows: 4 } });
    expect(lines[1]).toMatchObject({ position: 5 });

    // A forged cut (moved to hide more rows) and a deleted first row after it both fail verify.
    await client.query(`UPDATE governance.audit_checkpoints SET position = 5 WHERE tenant = $1`, [tenant]);
    expect(await verify()).toMatchObject({ intact: false, position: 5, reason: 'forged-checkpoint' });
    await client.query(`UPDATE governance.audit_checkpoints SET position = 4 WHERE tenant = $1`, [tenant]);
    await client.query(`DELETE FROM governance.audit_log WHERE tenant = $1 AND position = 5`, [tenant]);
    expect(await verify()).toMatchObject({ intact: false, position: 5, reason: 'missing-row' });
    // A broken chain is not cut.
    await client.query(
      `UPDATE governance.audit_log SET recorded_at = now() - interval '400 days' WHERE tenant = $1`,
      [tenant],
    );
    expect((await call('POST', '/v1/audit/retention', admin, { before: cutoff })).status).toBe(409);
  });
});
