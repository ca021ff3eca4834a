import { FaultProxy, type ScratchDatabase, scratchDatabase, waitFor } from '@keel/testing';
import agentPolicy from '../../libs/decisioning/domain/src/policies/agent-policy.v1.json';
import guardrails from '../../libs/decisioning/domain/src/policies/guardrails.v1.json';
import decidePrompt from '../../libs/decisioning/domain/src/prompts/decide.prompt.v1.json';
import { WorkflowE2eContext } from './fixtures/workflow-e2e.context';
import { ServiceProcess } from './fixtures/service.process';

const tenant = 'acme';

/** A template whose version shows in what it does: v1 calls `/v1/<n>` on the ledger, v2 `/v2/<n>`. */
const releaseDemo = (version: number) => ({
  name: 'release-demo',
  version,
  description: `Version ${version} of the release propagation template.`,
  start: 'call',
  steps: {
    call: {
      kind: 'task',
      connector: { type: 'http', service: 'ledger', method: 'POST', path: `/v${version}/{{ input.n }}` },
      timeoutMs: 2000,
      next: 'done',
    },
    done: { kind: 'end', status: 'completed' },
  },
});

interface ReleaseHealth {
  tenant: string | null;
  production: { id: string; sequence: number } | null;
  shadow: { id: string; sequence: number } | null;
}

/**
 * Releases reach the running services: governance and workflow as processes on real Kafka and Postgres, each
 * in its own database. A promotion is applied by the running workflow service within seconds (its `/health`
 * names the release, a new instance runs the template version the release holds and names the release),
 * rollback restores the previous release, a restarted workflow service resumes the release in force with
 * governance down, and every step is in governance's audit log.
 */
describe('release propagation', () => {
  let governanceDatabase: ScratchDatabase;
  let governance: ServiceProcess;
  let workflow: WorkflowE2eContext;
  // The workflow service reaches governance through it, so a test can take governance away from it alone.
  let governanceLink: FaultProxy;
  const propagation: Record<string, number> = {};

  beforeAll(async () => {
    // What the workflow service needs to apply releases; governance's URL and key are known once it runs.
    const releaseEnv: Record<string, string> = { KEEL_RELEASE_TENANT: tenant, RELEASES_REFRESH_MS: '200' };
    workflow = new WorkflowE2eContext(0, releaseEnv);
    governanceDatabase = await scratchDatabase('keel_governance_release_e2e');
    governance = new ServiceProcess('governance', {
      DATABASE_URL: governanceDatabase.url,
      KEEL_TOPIC_NAMESPACE: workflow.namespace,
      GOVERNANCE_AUDIT_KEY: 'release-propagation-audit-key-0123456789',
      GOVERNANCE_RATE_LIMIT: '100000',
      OUTBOX_POLL_MS: '50',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    });
    await governance.start();
    const key = await governance.call<{ key: string }>('POST', '/v1/api-keys', 'admin', {
      client: 'workflow-service',
      roles: ['viewer'],
    });
    governanceLink = await FaultProxy.inFrontOf(governance.url);
    releaseEnv.GOVERNANCE_URL = governanceLink.url(governance.url);
    releaseEnv.GOVERNANCE_API_KEY = key.key;
    workflow.publishDefinitions(() => false);
    await workflow.setUp();
    await workflow.service.start();
  });

  afterAll(async () => {
    await governanceLink?.close();
    await governance?.stop();
    await workflow?.tearDown();
    await governanceDatabase?.drop();
    if (Object.keys(propagation).length > 0) {
      process.stdout.write(
        `release propagation (promote answered → workflow /health): ${JSON.stringify(propagation)}\n`,
      );
    }
  });

  const health = async () => (await workflow.service.get<{ release: ReleaseHealth }>('/health')).release;

  async function register(kind: string, name: string, content: unknown): Promise<number> {
    const answer = await governance.call<{ version: number }>(
      'POST',
      `/v1/artifacts/${kind}/${name}/versions`,
      'operator',
      { content },
    );
    return answer.version;
  }

  /** Proposes, reviews (four-eyes: the test's tokens name a different subject per role) and promotes. */
  async function release(id: string, templateVersion: number): Promise<void> {
    await governance.call('POST', '/v1/releases', 'operator', {
      id,
      agentPolicy: { name: 'support-agent', version: 1 },
      prompt: { name: 'decide', version: 1 },
      model: 'offline-planner@1',
      guardrailPolicy: { name: 'guardrails', version: 1 },
      workflowTemplates: [{ name: 'release-demo', version: templateVersion }],
    });
    await governance.call('POST', `/v1/releases/${id}/submit`, 'operator');
    await governance.call('POST', `/v1/releases/${id}/approve`, 'approver');
    await governance.call('POST', `/v1/releases/${id}/promote`, 'operator', { stage: 'shadow' });
    await waitFor(async () => (await health()).shadow?.id === id, {
      timeoutMs: 15_000,
      what: `${id} in shadow`,
    });
    await promoted(id, () =>
      governance.call('POST', `/v1/releases/${id}/promote`, 'operator', { stage: 'production' }),
    );
  }

  /** Runs the step and waits for the workflow service to name `id` in production; records how long it took. */
  async function promoted(id: string, step: () => Promise<unknown>, label = id): Promise<void> {
    await step();
    const answered = Date.now();
    await waitFor(async () => (await health()).production?.id === id, {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: `workflow runs ${id}`,
    });
    propagation[label] = Date.now() - answered;
  }

  async function startedUnder(instanceId: string, n: number) {
    await workflow.sendCommands([{ command: 'start', instanceId, template: 'release-demo', input: { n } }]);
    await waitFor(async () => (await workflow.instance(instanceId))?.status === 'completed', {
      timeoutMs: 30_000,
      what: `${instanceId} completed`,
    }).catch((error: unknown) => {
      // What the service logged says why (a dead-lettered start, a failed task).
      throw new Error(`${String(error)}\n${workflow.service.output().slice(-4000)}`);
    });
    const [row] = await workflow.query<{ workflow_version: number; release_id: string | null }>(
      `SELECT workflow_version, release_id FROM workflow.instances WHERE id = $1`,
      [instanceId],
    );
    return { ...row, path: workflow.ledger.entries.get(`${instanceId}:call:run1`)?.path };
  }

  it('applies a promotion within seconds, without a restart, to new instances', async () => {
    expect(await health()).toEqual({ tenant, production: null, shadow: null });
    expect(await register('agent-policy', 'support-agent', agentPolicy)).toBe(1);
    expect(await register('prompt', 'decide', decidePrompt)).toBe(1);
    expect(await register('guardrail-policy', 'guardrails', guardrails)).toBe(1);
    expect(await register('workflow-template', 'release-demo', releaseDemo(1))).toBe(1);
    expect(await register('workflow-template', 'release-demo', releaseDemo(2))).toBe(2);

    await release('r1', 1);
    expect(await startedUnder('under-r1', 1)).toEqual({
      workflow_version: 1,
      release_id: 'r1',
      path: '/v1/1',
    });

    await release('r2', 2);
    expect(await health()).toMatchObject({ production: { id: 'r2' }, shadow: null });
    expect(await startedUnder('under-r2', 2)).toEqual({
      workflow_version: 2,
      release_id: 'r2',
      path: '/v2/2',
    });
    // What was running before keeps the release it started under.
    expect(await workflow.instance('under-r1')).toMatchObject({ workflow_version: 1 });

    const metrics = await (await fetch(`${workflow.service.url}/metrics`)).text();
    expect(metrics).toMatch(/keel_release_info\{[^}]*release="r2"[^}]*\} 1/);
    expect(metrics).not.toMatch(/keel_release_info\{[^}]*release="r1"[^}]*\} 1/);
  });

  it('rollback restores the previous release', async () => {
    await promoted(
      'r1',
      () => governance.call('POST', '/v1/releases/rollback', 'operator', { reason: 'e2e' }),
      'rollback to r1',
    );
    expect(await startedUnder('after-rollback', 3)).toEqual({
      workflow_version: 1,
      release_id: 'r1',
      path: '/v1/3',
    });
    const [applied] = await workflow.query<{ steps: string[] }>(
      `SELECT array_agg(release_id || '@' || stage ORDER BY sequence) AS steps FROM workflow.release_applications`,
    );
    expect(applied?.steps).toEqual([
      'r1@shadow',
      'r1@production',
      'r2@shadow',
      'r2@production',
      'r1@production',
    ]);
  });

  it('records every promotion and the rollback in the audit log', async () => {
    const types = async (id: string) =>
      (await governance.call<Array<{ type: string }>>('GET', `/v1/audit/cases/${id}`, 'viewer')).map(
        (row) => row.type,
      );
    await waitFor(async () => (await types('r2')).includes('keel.governance.release.rolled_back'), {
      timeoutMs: 15_000,
      what: 'rollback audited',
    });
    const r1 = await types('r1');
    const r2 = await types('r2');
    // One event per member (agent policy, prompt, guardrails, template) per step.
    expect(r1.filter((type) => type === 'keel.governance.release.promoted')).toHaveLength(12);
    expect(r2.filter((type) => type === 'keel.governance.release.promoted')).toHaveLength(8);
    expect(r2.filter((type) => type === 'keel.governance.release.rolled_back')).toHaveLength(4);
    expect(await governance.call('GET', '/v1/audit/verify', 'viewer')).toMatchObject({ intact: true });
  });

  it('holds a promotion while governance cannot be reached from the service, and applies it once it can', async () => {
    governanceLink.refuse();
    governanceLink.cut();
    const [before] = await workflow.query<{ steps: number }>(
      `SELECT count(*)::int AS steps FROM workflow.release_applications`,
    );
    await governance.call('POST', '/v1/releases', 'operator', {
      id: 'r3',
      agentPolicy: { name: 'support-agent', version: 1 },
      prompt: { name: 'decide', version: 1 },
      model: 'offline-planner@1',
      guardrailPolicy: { name: 'guardrails', version: 1 },
      workflowTemplates: [{ name: 'release-demo', version: 2 }],
    });
    await governance.call('POST', '/v1/releases/r3/submit', 'operator');
    await governance.call('POST', '/v1/releases/r3/approve', 'approver');
    await governance.call('POST', '/v1/releases/r3/promote', 'operator', { stage: 'shadow' });
    await governance.call('POST', '/v1/releases/r3/promote', 'operator', { stage: 'production' });
    // Held, not dead-lettered and not half-applied: r1 stays in force while governance is away.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await health()).toMatchObject({ production: { id: 'r1' }, shadow: null });
    const [during] = await workflow.query<{ steps: number }>(
      `SELECT count(*)::int AS steps FROM workflow.release_applications`,
    );
    expect(during).toEqual(before);

    await promoted('r3', () => Promise.resolve(governanceLink.heal()), 'r3 after governance came back');
    expect(await startedUnder('under-r3', 5)).toEqual({
      workflow_version: 2,
      release_id: 'r3',
      path: '/v2/5',
    });
  });

  it('resumes the release in force after a restart while governance is down', async () => {
    await governance.stop();
    await workflow.service.kill();
    await workflow.service.start();
    expect(await health()).toMatchObject({ tenant, production: { id: 'r3' } });
    expect(await startedUnder('after-restart', 4)).toEqual({
      workflow_version: 2,
      release_id: 'r3',
      path: '/v2/4',
    });
  });

  // Decisioning's side of the same propagation (promotion, shadow, rollback, records naming the release) is
  // `decisioning-releases.e2e-spec.ts`. To prove both services switch on one promotion, start decisioning here
  // with the same release env (KEEL_RELEASE_TENANT, GOVERNANCE_URL through governanceLink, an API key) and
  // wait on its /health `release` beside the workflow's in `promoted`.
});
