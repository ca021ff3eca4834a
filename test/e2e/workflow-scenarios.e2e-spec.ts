import { type DecisionRecord, deadLetterTopicName } from '@keel/contracts';
import { readTopic, testKafka, waitFor } from '@keel/testing';
import type { KafkaMessage } from 'kafkajs';
import { WorkflowE2eContext } from './fixtures/workflow-e2e.context';

/** Approvals, durable timers, a parallel branch parked across a crash, version pinning, bad commands. */
describe('workflow service scenarios', () => {
  const context = new WorkflowE2eContext();

  beforeAll(async () => {
    context.publishDefinitions((file) => !file.startsWith('versioned-v2') && !file.startsWith('five-step'));
    await context.setUp();
    await context.service.start();
  });

  afterAll(() => context.tearDown());

  const statusOf = async (id: string) => (await context.instance(id))?.status;
  const until = (id: string, status: string) =>
    waitFor(async () => (await statusOf(id)) === status, { timeoutMs: 60_000, what: `${id} ${status}` });
  const waitingOn = (id: string, stepId: string) =>
    waitFor(async () => (await context.instance(id))?.state.approvals[stepId] !== undefined, {
      timeoutMs: 60_000,
      what: `${id} waiting on ${stepId}`,
    });

  it('waits at an approval step, resumes on approve and compensates on reject', async () => {
    await context.sendCommands([
      { command: 'start', instanceId: 'approve-me', template: 'approval-flow', input: { n: 1 } },
      { command: 'start', instanceId: 'reject-me', template: 'approval-flow', input: { n: 2 } },
    ]);
    await waitingOn('approve-me', 'managerApproval');
    await waitingOn('reject-me', 'managerApproval');
    expect(await statusOf('approve-me')).toBe('waiting');

    await context.answerApproval('approve-me', 'managerApproval', 'granted');
    await context.answerApproval('reject-me', 'managerApproval', 'rejected');
    await until('approve-me', 'completed');
    await until('reject-me', 'compensated');

    const ledger = context.ledger.entries;
    expect(ledger.get('approve-me:ship:run1')?.path).toBe('/ship/1');
    expect(ledger.get('reject-me:ship:run1')).toBeUndefined();
    // The rejected instance released its reservation: the compensation reached the far side once.
    expect(ledger.get('reject-me:reserve:run1:compensate')).toMatchObject({
      method: 'DELETE',
      path: '/reserve/2',
      calls: 1,
    });
  });

  it('fires a timer that fell due while the service was down, after it restarts', async () => {
    await context.sendCommands([
      { command: 'start', instanceId: 'sleeper', template: 'timer-flow', input: { n: 3 } },
    ]);
    const [timer] = await waitFor(async () => {
      const rows = await context.query<{ due_at: Date }>(
        `SELECT due_at FROM workflow.timers WHERE instance_id = 'sleeper' AND status = 'scheduled'`,
      );
      return rows.length > 0 ? rows : undefined;
    });
    await context.service.kill();
    // The outage outlasts the timer.
    await waitFor(() => Date.now() > timer.due_at.getTime() + 500, { timeoutMs: 10_000, what: 'timer due' });
    expect(await statusOf('sleeper')).toBe('waiting');
    await context.service.start();
    await until('sleeper', 'completed');
    expect(context.ledger.entries.get('sleeper:act:run1')?.calls).toBe(1);
  });

  it('keeps an approval inside one parallel branch across a crash and resumes only that branch', async () => {
    await context.sendCommands([
      { command: 'start', instanceId: 'fan', template: 'parallel-approval', input: { n: 4 } },
    ]);
    await waitingOn('fan', 'signOff');
    await waitFor(
      async () => (await context.instance('fan'))?.state.executions.label?.status === 'succeeded',
      {
        timeoutMs: 60_000,
        what: 'the other branch finished',
      },
    );
    await context.service.kill();
    await context.service.start();
    await context.answerApproval('fan', 'signOff', 'granted');
    await until('fan', 'completed');

    // Work done before the crash was not repeated, and the join ran once.
    for (const step of ['prepare', 'pack', 'label', 'finish']) {
      expect(context.ledger.entries.get(`fan:${step}:run1`)?.calls).toBe(1);
    }
    const history =
      await context.service.get<Array<{ events: Array<{ transition: string }> }>>('/instances/fan/history');
    const joins = history
      .flatMap((entry) => entry.events)
      .filter((event) => event.transition === 'parallel.joined');
    expect(joins).toHaveLength(1);
  });

  it('finishes an instance on version 1 after version 2 is published; new instances take version 2', async () => {
    await context.sendCommands([
      { command: 'start', instanceId: 'pinned', template: 'versioned', input: { n: 5 } },
    ]);
    await waitingOn('pinned', 'gate');
    await context.service.stop();
    context.publishDefinitions((file) => file.startsWith('versioned-v2'));
    await context.service.start();

    await context.sendCommands([
      { command: 'start', instanceId: 'fresh', template: 'versioned', input: { n: 6 } },
    ]);
    await waitingOn('fresh', 'gate');
    await context.answerApproval('pinned', 'gate', 'granted');
    await context.answerApproval('fresh', 'gate', 'granted');
    await until('pinned', 'completed');
    await until('fresh', 'completed');

    expect((await context.instance('pinned'))?.workflow_version).toBe(1);
    expect((await context.instance('fresh'))?.workflow_version).toBe(2);
    expect(context.ledger.entries.get('pinned:final:run1')?.path).toBe('/v1-final/5');
    expect(context.ledger.entries.get('fresh:final:run1')?.path).toBe('/v2-final/6');
  });

  it('dead-letters bad commands and keeps processing the ones behind them', async () => {
    await context.sendCommands(
      [
        { command: 'start', instanceId: 'ghost', template: 'no-such-workflow', input: {} },
        { command: 'cancel', instanceId: 'never-started', reason: 'operator' },
        { command: 'start', instanceId: 'after-bad', template: 'timer-flow', input: { n: 7 } },
      ],
      () => 'one-case', // one key: one partition, so the good command really is behind the bad ones
    );
    await waitFor(async () => (await context.instance('after-bad')) !== undefined, {
      what: 'the good command',
    });

    const deadLetters = await readTopic(
      testKafka(),
      deadLetterTopicName(context.topics.workflowCommands.name),
      2,
    );
    const reasons = deadLetters.map((message) => message.headers?.keel_dlq_error?.toString());
    expect(reasons).toEqual([
      expect.stringMatching(/no workflow named 'no-such-workflow'/),
      expect.stringMatching(/no workflow instance 'never-started'/),
    ]);
    expect(deadLetters.map((message) => message.headers?.keel_dlq_reason?.toString())).toEqual([
      'non-retryable',
      'non-retryable',
    ]);
    expect(deadLetters.map((message) => message.headers?.keel_dlq_code?.toString())).toEqual([
      'unknown-workflow',
      'unknown-instance',
    ]);
    // Operators see it too: one structured error line per dead letter, with the case.
    const logged = context.service
      .output()
      .split('\n')
      .filter((line) => line.includes('record dead-lettered'))
      .map((line) => JSON.parse(line) as { caseId?: string; reason?: string; level?: unknown });
    expect(logged).toEqual([
      expect.objectContaining({ caseId: 'one-case', reason: 'non-retryable' }),
      expect.objectContaining({ caseId: 'one-case', reason: 'non-retryable' }),
    ]);
  });

  const decision = (
    decisionId: string,
    mode: 'production' | 'shadow',
    input: Record<string, unknown>,
    requiresApproval = false,
  ): DecisionRecord => ({
    decisionId,
    // One case, so one partition: the decisions are consumed in the order they were sent.
    caseId: 'case-orders',
    action: { tool: 'start_workflow', arguments: { template: 'order-routing', input } },
    rationale: 'Standard order; route it.',
    confidence: 0.93,
    risk: 'low',
    requiresApproval,
    mode,
    inputs: { eventIds: [`evt-${decisionId}`], chunks: [] },
    versions: {
      agentPolicy: { name: 'order-agent', version: 1 },
      prompt: { name: 'order-prompt', version: 1 },
      guardrailPolicy: { name: 'default', version: 1 },
      model: 'offline-planner@1',
    },
    cost: { promptTokens: 0, completionTokens: 0, latencyMs: 3 },
    fallback: false,
  });

  it('starts the order-routing template from a production decision, asks the agent, and resumes on its answer', async () => {
    const order = {
      orderId: 'o-77',
      weightKg: 3,
      region: 'US',
      address: 'Boston',
      lines: [{ sku: 'a', qty: 1 }],
    };
    await context.sendDecision(decision('dec-78', 'shadow', order));
    await context.sendDecision(decision('dec-79', 'production', order, true));
    await context.sendDecision(decision('dec-77', 'production', order));
    await waitFor(
      async () => (await context.instance('dec-77'))?.state.executions.pickCarrier?.status === 'waiting',
      { timeoutMs: 60_000, what: 'the decision step waiting for the agent' },
    );
    await context.sendCommands([
      {
        command: 'signal',
        instanceId: 'dec-77',
        signal: 'decision',
        stepId: 'pickCarrier',
        payload: { run: 1, decision: 'freight' },
      },
    ]);
    await until('dec-77', 'completed');

    // Shadow decisions are recorded elsewhere, never acted on; one held for a human waits for governance.
    expect(await context.instance('dec-78')).toBeUndefined();
    expect(await context.instance('dec-79')).toBeUndefined();
    expect(context.ledger.entries.get('dec-77:reserveInventory:run1')?.path).toBe('/reservations');
    expect(context.ledger.entries.get('dec-77:bookFreight:run1')?.path).toBe('/freight/bookings');
    expect(context.ledger.entries.get('dec-77:bookParcel:run1')).toBeUndefined();

    // Every transition left on keel.workflow.events.v1, in order, with the agent's request among them.
    const history =
      await context.service.get<Array<{ seq: number; events: unknown[] }>>('/instances/dec-77/history');
    const expected = history.reduce((count, entry) => count + entry.events.length, 0);
    const ofInstance = (message: KafkaMessage) =>
      (JSON.parse(message.value?.toString() ?? '{}') as { instanceId?: string }).instanceId === 'dec-77';
    const published = (await readTopic(testKafka(), context.topics.workflowEvents.name, expected, ofInstance))
      .map(
        (message) =>
          JSON.parse(message.value?.toString() ?? '{}') as {
            instanceId: string;
            sequence: number;
            transition: string;
          },
      )
      .filter((event) => event.instanceId === 'dec-77');
    expect(published).toHaveLength(expected);
    expect(published.map((event) => event.sequence)).toEqual(
      [...published.map((event) => event.sequence)].sort((a, b) => a - b),
    );
    expect(published.map((event) => event.transition)).toEqual(
      expect.arrayContaining([
        'workflow.started',
        'agent.decisionRequested',
        'decision.received',
        'workflow.completed',
      ]),
    );
  });

  it('routes a support ticket: assign, notify the queue on Kafka, SLA timer, agent check, escalation approval', async () => {
    await context.sendCommands([
      {
        command: 'start',
        instanceId: 'ticket-1',
        template: 'support-routing',
        input: { ticketId: 'T-1', priority: 'high', customerId: 'c-9', skills: ['billing'] },
      },
    ]);
    const [notification] = await readTopic(testKafka(), context.topics.supportNotifications.name, 1);
    expect(JSON.parse(notification?.value?.toString() ?? '{}')).toEqual({
      ticketId: 'T-1',
      queue: 'priority',
      customerId: 'c-9',
    });
    expect(notification?.headers?.ce_id?.toString()).toBe('ticket-1:notifyQueue:run1');

    // The SLA is an hour away: fast-forward the durable timer instead of waiting for it.
    const slaTimer = `workflow.timers WHERE instance_id = 'ticket-1' AND purpose = 'wait' AND status = 'scheduled'`;
    await waitFor(async () => (await context.query(`SELECT 1 FROM ${slaTimer}`)).length === 1, {
      what: 'the SLA timer',
    });
    await context.query(`UPDATE ${slaTimer.replace(' WHERE', ' SET due_at = now() WHERE')}`);
    await waitFor(
      async () =>
        (await context.instance('ticket-1'))?.state.executions.checkResolution?.status === 'waiting',
      { what: 'the agent asked whether the ticket is resolved' },
    );
    await context.sendCommands([
      {
        command: 'signal',
        instanceId: 'ticket-1',
        signal: 'decision',
        stepId: 'checkResolution',
        payload: { run: 1, decision: 'unresolved' },
      },
    ]);
    await waitingOn('ticket-1', 'escalate');
    await context.answerApproval('ticket-1', 'escalate', 'granted');
    await until('ticket-1', 'completed');
    expect(context.ledger.entries.get('ticket-1:assignQueue:run1')?.path).toBe('/tickets/T-1/assignment');
  });

  it('handles fulfilment exceptions: agent classifies, remediation, Postgres verification, escalation or undo', async () => {
    // The remediation API answers with the id it created; the remediation database knows it by that id.
    context.ledger.answers.set('/remediations', (body) => ({
      remediationId: `R-${String(body.exceptionId)}`,
    }));
    await context.query(
      `INSERT INTO public.remediations (exception_id, remediation_id, resolved)
       VALUES ('E-1', 'R-E-1', true), ('E-2', 'R-E-2', false)`,
    );
    await context.sendCommands([
      {
        command: 'start',
        instanceId: 'exception-1',
        template: 'exception-handling',
        input: { exceptionId: 'E-1', orderId: 'o-1' },
      },
      {
        command: 'start',
        instanceId: 'exception-2',
        template: 'exception-handling',
        input: { exceptionId: 'E-2', orderId: 'o-2' },
      },
    ]);
    for (const instanceId of ['exception-1', 'exception-2']) {
      await waitFor(
        async () => (await context.instance(instanceId))?.state.executions.classify?.status === 'waiting',
        { what: `${instanceId} asking the agent to classify` },
      );
      await context.sendCommands([
        {
          command: 'signal',
          instanceId,
          signal: 'decision',
          stepId: 'classify',
          payload: { run: 1, decision: 'reship', rationale: 'carrier lost it' },
        },
      ]);
    }
    // Resolved in the remediation database: done. Still open: a person decides; rejecting undoes the remediation.
    await until('exception-1', 'completed');
    await waitingOn('exception-2', 'escalate');
    await context.answerApproval('exception-2', 'escalate', 'rejected');
    await until('exception-2', 'compensated');

    expect(context.ledger.entries.get('exception-1:remediate:run1')?.path).toBe('/remediations');
    expect(context.ledger.entries.get('exception-2:remediate:run1:compensate')).toMatchObject({
      method: 'DELETE',
      path: '/remediations/R-E-2',
      calls: 1,
    });
  });

  const post = async (path: string, body: unknown) =>
    fetch(`${context.service.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await context.service.operator()) },
      body: JSON.stringify(body),
    });

  it('lets an operator retry a step now instead of after its back-off', async () => {
    context.ledger.unavailable.add('/flaky');
    await context.sendCommands([
      { command: 'start', instanceId: 'flaky', template: 'flaky-flow', input: { n: 8 } },
    ]);
    await waitFor(
      async () =>
        (
          await context.query(
            `SELECT 1 FROM workflow.timers WHERE instance_id = 'flaky' AND purpose = 'retry' AND status = 'scheduled'`,
          )
        ).length > 0,
      { what: 'a retry ten minutes away' },
    );
    context.ledger.unavailable.delete('/flaky');
    const response = await post('/instances/flaky/retry-step', { stepId: 'charge', by: 'ops' });
    expect(response.status).toBe(200);
    await until('flaky', 'completed');
    expect(context.ledger.entries.get('flaky:charge:run1')?.calls).toBe(1);
  });

  it('lets an operator rerun from an earlier step (a new run, a new key) and cancel with compensation', async () => {
    await context.sendCommands([
      { command: 'start', instanceId: 'rerun-me', template: 'approval-flow', input: { n: 9 } },
      { command: 'start', instanceId: 'cancel-me', template: 'approval-flow', input: { n: 10 } },
    ]);
    await waitingOn('rerun-me', 'managerApproval');
    await waitingOn('cancel-me', 'managerApproval');

    expect((await post('/instances/rerun-me/rerun-from', { stepId: 'reserve', by: 'ops' })).status).toBe(200);
    await waitFor(() => context.ledger.entries.has('rerun-me:reserve:run2'), {
      what: 'the second run of reserve',
    });
    await waitingOn('rerun-me', 'managerApproval');
    await context.answerApproval('rerun-me', 'managerApproval', 'granted', 2);
    await until('rerun-me', 'completed');

    expect(
      (await post('/instances/cancel-me/cancel', { reason: 'customer withdrew', by: 'ops' })).status,
    ).toBe(200);
    await until('cancel-me', 'cancelled');
    expect(context.ledger.entries.get('cancel-me:reserve:run1:compensate')).toMatchObject({
      method: 'DELETE',
      calls: 1,
    });
  });

  it('starts scheduled workflows from their cron schedule', async () => {
    const started = await waitFor(
      async () => {
        const rows = await context.query<{ id: string; status: string }>(
          `SELECT id, status FROM workflow.instances WHERE workflow_name = 'heartbeat' AND status = 'completed'`,
        );
        return rows.length >= 2 ? rows : undefined;
      },
      { timeoutMs: 20_000, what: 'two scheduled runs' },
    );
    expect(started[0]?.id).toMatch(/^heartbeat@1\/cron\/\d{4}-\d\d-\d\dT/);
  });

  it('answers read and operator requests over HTTP, with a 4xx and a reason for bad ones', async () => {
    const instance = await context.service.get<{ status: string; workflow: { name: string } }>(
      '/instances/approve-me',
    );
    expect(instance).toMatchObject({ status: 'completed', workflow: { name: 'approval-flow' } });
    const missing = await fetch(`${context.service.url}/instances/nope`, {
      headers: await context.service.operator(),
    });
    expect(missing.status).toBe(404);
    const badCancel = await fetch(`${context.service.url}/instances/approve-me/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await context.service.operator()) },
      body: JSON.stringify({ by: 'ops' }),
    });
    expect(badCancel.status).toBe(400);
    expect(await badCancel.json()).toMatchObject({ violations: [{ path: 'reason' }] });
    const lateCancel = await fetch(`${context.service.url}/instances/approve-me/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await context.service.operator()) },
      body: JSON.stringify({ by: 'ops', reason: 'too late' }),
    });
    expect(lateCancel.status).toBe(409);
  });

  it('exposes workflow metrics, with gauges read from the database', async () => {
    const scrape = async () => (await fetch(`${context.service.url}/metrics`)).text();
    await context.sendCommands([
      { command: 'start', instanceId: 'on-hold', template: 'approval-flow', input: { n: 11 } },
    ]);
    await waitingOn('on-hold', 'managerApproval');
    const waiting = await scrape();
    expect(waiting).toMatch(/^keel_workflow_instances_active\{[^}]*template="approval-flow"[^}]*\} [1-9]/m);
    expect(waiting).toMatch(/^keel_workflow_approvals_waiting\{[^}]*\} [1-9]/m);

    await context.answerApproval('on-hold', 'managerApproval', 'granted');
    await until('on-hold', 'completed');
    const done = await scrape();
    expect(done).toMatch(
      /^keel_workflow_instances_finished_total\{[^}]*template="approval-flow"[^}]*status="completed"[^}]*\} [1-9]/m,
    );
    expect(done).toMatch(/^keel_messages_consumed_total\{[^}]*outcome="processed"[^}]*\} [1-9]/m);
  });
});
