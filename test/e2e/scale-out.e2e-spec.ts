import { type CaseEvent, type DecisionRecord, type WorkflowEvent } from '@keel/contracts';
import { HttpIngestionClient } from '@keel/ingestion-client';
import { metricSum, testTokens, waitFor } from '@keel/testing';
import { PipelinePlatform, type PipelineService, completableOrder } from './fixtures/pipeline-platform';
import { TopicTap } from './fixtures/topic-tap';

/**
 * The same code as two replicas of every service on one Kafka and one Postgres: each consumer group splits
 * the topics' partitions between its two members, the decisioning replicas split the decision queue's shards,
 * the workflow replicas take task leases from one table, and still every case is decided once and runs one
 * instance to its end.
 */
const tenant = 'acme';
const cases = 60;
const terminal = new Set(['completed', 'failed', 'compensated', 'cancelled']);

describe('scale out: two replicas of every service on one Kafka and Postgres', () => {
  let platform: PipelinePlatform;
  let tap: TopicTap;

  beforeAll(async () => {
    platform = await PipelinePlatform.start({ replicas: 2 });
    const { caseEvents, decisions, workflowEvents } = platform.topics;
    tap = new TopicTap([caseEvents, decisions, workflowEvents]);
    await tap.start();
  });

  afterAll(async () => {
    await tap?.stop();
    await platform?.stop();
  });

  /** A metric's sum over its series, as one replica's `/metrics` shows it. */
  const metric = async (service: PipelineService, replica: number, name: string): Promise<number> => {
    return metricSum(await (await fetch(`${platform.url(service, replica)}/metrics`)).text(), name);
  };

  it('takes every case sent through either ingestion replica to its outcome, once, with the load spread', async () => {
    const { caseEvents, decisions, workflowEvents } = platform.topics;
    const events = Array.from({ length: cases }, (_, n) => completableOrder(tenant, 'scale', n));
    // Batches of five, alternating between the two ingestion replicas, as a load balancer would.
    const clients = [0, 1].map(
      (replica) =>
        new HttpIngestionClient({
          url: platform.url('ingestion', replica),
          authorization: () => testTokens.bearer(tenant, 'operator'),
        }),
    );
    const results = await Promise.all(
      Array.from({ length: cases / 5 }, (_, n) => clients[n % 2]?.send(events.slice(n * 5, n * 5 + 5)) ?? []),
    );
    expect(results.flat().filter((result) => result.outcome !== 'accepted')).toEqual([]);

    const caseIds = () => [...new Set(tap.of<CaseEvent>(caseEvents).map((event) => event.data.caseId))];
    const outcomes = () => {
      const outcome = new Map<string, string>();
      for (const event of tap.of<WorkflowEvent>(workflowEvents))
        if (terminal.has(event.data.status) && event.subject) outcome.set(event.subject, event.data.status);
      return outcome;
    };
    await waitFor(() => Promise.resolve(caseIds().length === cases && outcomes().size === cases), {
      timeoutMs: 90_000,
      intervalMs: 250,
      what: `${cases} cases at their outcome`,
    });

    // Every order completes, each case decided once and run by one instance, though records may be redelivered.
    expect([...new Set(outcomes().values())]).toEqual(['completed']);
    const decisionsOf = new Map<string, Set<string>>();
    for (const { data } of tap.of<DecisionRecord>(decisions))
      if (data.mode === 'production' && data.action.tool === 'start_workflow')
        decisionsOf.set(data.caseId, new Set([...(decisionsOf.get(data.caseId) ?? []), data.decisionId]));
    const instancesOf = new Map<string, Set<string>>();
    for (const event of tap.of<WorkflowEvent>(workflowEvents))
      if (event.subject)
        instancesOf.set(
          event.subject,
          new Set([...(instancesOf.get(event.subject) ?? []), event.data.instanceId]),
        );
    expect(caseIds().filter((caseId) => decisionsOf.get(caseId)?.size !== 1)).toEqual([]);
    expect(caseIds().filter((caseId) => instancesOf.get(caseId)?.size !== 1)).toEqual([]);

    // The load was spread: both ingestion replicas admitted events, every replica of each consuming service
    // consumed records of its group's partitions, both decisioning replicas decided the cases of their queue
    // shards, and both workflow replicas ran task steps under their leases.
    const perReplica = async (service: PipelineService, name: string) =>
      Promise.all([0, 1].map((replica) => metric(service, replica, name)));
    const spread = {
      ingestion: await perReplica('ingestion', 'keel_ingestion_events_total'),
      decisioning: await perReplica('decisioning', 'keel_messages_consumed_total'),
      decided: await perReplica('decisioning', 'keel_decisioning_decisions_total'),
      workflow: await perReplica('workflow', 'keel_messages_consumed_total'),
      governance: await perReplica('governance', 'keel_messages_consumed_total'),
      workflowSteps: await perReplica('workflow', 'keel_workflow_step_duration_seconds_count'),
    };
    for (const [what, counts] of Object.entries(spread))
      expect([what, counts.every((count) => count > 0)]).toEqual([what, true]);
  });
});
