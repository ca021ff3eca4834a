import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Role } from '@keel/access';
import { loadConfig } from '@keel/config';
import { governanceConfigSchema } from '@keel/governance-feature';
import { startServiceApp } from '@keel/observability';
import {
  type ScratchDatabase,
  callJson,
  scratchDatabase,
  silentLogger,
  testAccessEnv,
  testKafkaBrokers,
  testTokens,
  waitFor,
} from '@keel/testing';
import { type INestApplication } from '@nestjs/common';
import { governanceService } from '../../apps/governance/src/governance.service';
import { WorkflowE2eContext } from './fixtures/workflow-e2e.context';

interface Item {
  id: string;
  kind: string;
  status: string;
  caseId: string;
  approverRole: string;
  escalated: boolean;
  decidedBy?: string;
}

/**
 * The approvals inbox end to end: the workflow service runs as its own process; an instance waits at an
 * approval step, the request reaches governance's inbox over Kafka, an approver approves over HTTP, governance
 * answers through its outbox, and the instance completes.
 */
describe('governance approvals inbox with the workflow service', () => {
  const context = new WorkflowE2eContext();
  let database: ScratchDatabase;
  let governance: INestApplication;
  let url: string;

  beforeAll(async () => {
    context.publishDefinitions((file) => file.startsWith('approval-flow'));
    // An approval whose first deadline passes in a second: the workflow escalates it to another role.
    writeFileSync(
      join(context.definitionsDir, 'escalating-approval.workflow.json'),
      JSON.stringify({
        name: 'escalating-approval',
        version: 1,
        description: 'An ops lead has a second to approve, then the ops manager is asked.',
        start: 'signOff',
        steps: {
          signOff: {
            kind: 'approval',
            title: 'Sign off order {{ input.n }}',
            approverRole: 'ops-lead',
            timeoutMs: 1000,
            onTimeout: 'escalate',
            escalateTo: 'ops-manager',
            escalationTimeoutMs: 600000,
            next: 'done',
          },
          done: { kind: 'end', status: 'completed' },
        },
      }),
    );
    await context.setUp();
    await context.service.start();
    database = await scratchDatabase('keel_governance_approvals');
    const config = loadConfig(governanceConfigSchema, {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
      KEEL_TOPIC_NAMESPACE: context.namespace,
      OUTBOX_POLL_MS: '50',
      PORT: '0',
      ...testAccessEnv,
      GOVERNANCE_AUDIT_KEY: 'governance-approvals-e2e-audit-key-0123456789',
      GOVERNANCE_RATE_LIMIT: '100000',
    });
    governance = await startServiceApp(governanceService, config, silentLogger('governance'));
    url = await governance.getUrl();
  });

  afterAll(async () => {
    await governance?.close();
    await database?.drop();
    await context.tearDown();
  });

  const token = (subject: string, roles: readonly Role[]): Promise<string> =>
    testTokens.bearerFor({ subject, tenant: 'acme', roles });

  const call = <Body>(method: string, path: string, authorization: string, body?: unknown) =>
    callJson<Body>(method, `${url}${path}`, { authorization, body });

  it('lists the waiting step, an approver approves it, and the instance completes', async () => {
    await context.sendCommands([
      { command: 'start', instanceId: 'inbox-e2e', template: 'approval-flow', input: { n: 11 } },
    ]);
    // The workflow side first, so a failure says which service did not get there.
    await waitFor(async () => (await context.instance('inbox-e2e'))?.status === 'waiting', {
      timeoutMs: 90_000,
      what: 'the instance waiting at its approval step',
    });
    const viewer = await token('vera', ['viewer']);
    const [item] = await waitFor(
      async () => {
        const items = (await call<Item[]>('GET', '/v1/approvals', viewer)).body;
        return items.length > 0 ? items : undefined;
      },
      { timeoutMs: 60_000, what: 'the approval step in the inbox' },
    );
    expect(item).toMatchObject({
      id: 'inbox-e2e/managerApproval/1',
      kind: 'workflow-step',
      status: 'pending',
      caseId: 'inbox-e2e',
    });
    expect((await context.instance('inbox-e2e'))?.status).toBe('waiting');

    const approver = await token('bob', ['approver']);
    const answered = await call<Item>(
      'POST',
      `/v1/approvals/${encodeURIComponent(item.id)}/approve`,
      approver,
      { reason: 'stock checked' },
    );
    expect(answered).toMatchObject({ status: 200, body: { status: 'granted', decidedBy: 'bob' } });

    await waitFor(async () => (await context.instance('inbox-e2e'))?.status === 'completed', {
      timeoutMs: 60_000,
      what: 'the instance completed',
    });
    expect(context.ledger.entries.get('inbox-e2e:ship:run1')?.path).toBe('/ship/11');
    // The step's output names who approved, as governance answered.
    const instance = await context.query<{ state: { context: { steps: Record<string, unknown> } } }>(
      `SELECT state FROM workflow.instances WHERE id = 'inbox-e2e'`,
    );
    expect(instance[0]?.state.context.steps.managerApproval).toMatchObject({
      output: { approved: true, by: 'bob', reason: 'stock checked' },
    });

    // Lineage shows the workflow's steps and the approval in order, from governance's audit log.
    const lineage = await waitFor(
      async () => {
        const body = (
          await call<{ entries: Array<{ stage: string; detail: Record<string, unknown> }> }>(
            'GET',
            '/v1/cases/inbox-e2e/lineage',
            viewer,
          )
        ).body;
        return body.entries.some((entry) => entry.detail.transition === 'workflow.completed')
          ? body
          : undefined;
      },
      { timeoutMs: 60_000, what: 'the completed instance in the lineage' },
    );
    const stages = lineage.entries.map((entry) => entry.stage);
    expect(stages[0]).toBe('workflow-command');
    expect(stages).toContain('approval');
    expect(stages.at(-1)).toBe('workflow-step');
  });

  it('shows the step under the escalation role once its deadline passed; the escalated request is answered', async () => {
    await context.sendCommands([
      { command: 'start', instanceId: 'escalate-e2e', template: 'escalating-approval', input: { n: 12 } },
    ]);
    const viewer = await token('vera', ['viewer']);
    const [escalated] = await waitFor(
      async () => {
        const items = (await call<Item[]>('GET', '/v1/approvals?role=ops-manager', viewer)).body;
        return items.length > 0 ? items : undefined;
      },
      { timeoutMs: 60_000, what: 'the escalated step under ops-manager' },
    );
    expect(escalated).toMatchObject({
      id: 'escalate-e2e/signOff/1',
      approverRole: 'ops-manager',
      escalated: true,
      status: 'pending',
    });
    // The workflow's own event announces the escalation to the new role; the audit log has it too.
    await waitFor(
      async () => {
        const lineage = (
          await call<{ entries: Array<{ stage: string; detail: Record<string, unknown> }> }>(
            'GET',
            '/v1/cases/escalate-e2e/lineage',
            viewer,
          )
        ).body;
        return lineage.entries.some(
          (entry) =>
            entry.detail.transition === 'approval.escalated' &&
            (entry.detail.detail as { approverRole?: string } | undefined)?.approverRole === 'ops-manager',
        )
          ? lineage
          : undefined;
      },
      { timeoutMs: 60_000, what: 'the approval.escalated event naming ops-manager in the lineage' },
    );
    const approver = await token('meg', ['approver']);
    const answered = await call<Item>(
      'POST',
      `/v1/approvals/${encodeURIComponent(escalated.id)}/approve`,
      approver,
      { reason: 'escalated and checked' },
    );
    expect(answered.status).toBe(200);
    await waitFor(async () => (await context.instance('escalate-e2e'))?.status === 'completed', {
      timeoutMs: 60_000,
      what: 'the escalated instance completed',
    });
  });
});
