import { deadLetterTopicName, serviceSource } from '@keel/contracts';
import { readTopic, testKafka, waitFor } from '@keel/testing';
import { WorkflowE2eContext } from './fixtures/workflow-e2e.context';

/** Templates are written outside the platform team: none of them can approve a step. */
describe('workflow template sandbox', () => {
  const context = new WorkflowE2eContext();

  beforeAll(async () => {
    context.publishDefinitions(
      (file) => file.startsWith('forge-approval') || file.startsWith('approval-flow'),
    );
    await context.setUp();
    await context.service.start();
  });

  afterAll(() => context.tearDown());

  const statusOf = async (id: string) => (await context.instance(id))?.status;

  it('refuses a Kafka task that publishes to the approvals topic, and publishes nothing there', async () => {
    await context.sendCommands([
      { command: 'start', instanceId: 'forger', template: 'forge-approval', input: { n: 1 } },
    ]);
    await waitFor(async () => (await statusOf('forger')) === 'failed', { what: 'forger failed' });
    const history = await context.service.get<unknown[]>('/instances/forger/history');
    expect(JSON.stringify(history)).toContain("'approvals' is not writable by workflow templates");
    // The only approval records are requests this service wrote itself: the forged grant never went out.
    const approvals = await context.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM workflow.outbox WHERE topic = $1`,
      [context.topics.approvals.name],
    );
    expect(approvals[0]?.n).toBe(0);
  });

  it('keeps waiting when a grant arrives from anyone but governance, and resumes on the real one', async () => {
    await context.sendCommands([
      { command: 'start', instanceId: 'gated', template: 'approval-flow', input: { n: 2 } },
    ]);
    await waitFor(
      async () => (await context.instance('gated'))?.state.approvals.managerApproval !== undefined,
      {
        what: 'gated waiting for its manager',
      },
    );

    await context.answerApproval('gated', 'managerApproval', 'granted', 1, serviceSource('workflow'));
    const [forged] = await readTopic(testKafka(), deadLetterTopicName(context.topics.approvals.name), 1);
    expect(forged?.headers?.keel_dlq_reason?.toString()).toBe('non-retryable');
    expect(forged?.headers?.keel_dlq_error?.toString()).toContain(
      "accepted only from urn:keel:governance as 'keel.approval.granted'; got source 'urn:keel:workflow'",
    );
    expect(await statusOf('gated')).toBe('waiting');

    await context.answerApproval('gated', 'managerApproval', 'granted');
    await waitFor(async () => (await statusOf('gated')) === 'completed', { what: 'gated completed' });
  });
});
