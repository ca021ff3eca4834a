import { type Role } from '@keel/access';
import { loadConfig } from '@keel/config';
import {
  type DecisionRecord,
  decodeEvent,
  type KafkaRecord,
  buildEvent,
  namespacedTopics,
} from '@keel/contracts';
import { currentArtifacts } from '@keel/decisioning-domain';
import { governanceConfigSchema, governanceQualityConfigSchema } from '@keel/governance-feature';
import { EventPublisher, KafkaRecordSender, ensureTopics, topicSpecsWithDeadLetters } from '@keel/messaging';
import { startServiceApp } from '@keel/observability';
import {
  type ScratchDatabase,
  callJson,
  deleteNamespaceTopics,
  readTopic,
  scratchDatabase,
  silentLogger,
  testAccessEnv,
  testKafka,
  testKafkaBrokers,
  testTokens,
  testTopicScope,
  waitFor,
} from '@keel/testing';
import { type INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { governanceService } from '../../apps/governance/src/governance.service';
import {
  decide,
  lenientGuardrails,
  orderCreated,
  orderWithoutAddress,
  strictGuardrails,
  withGuardrails,
} from '../../libs/governance/feature/src/quality/testing/recorded-decisions';
import orderRouting from '../../libs/workflow-engine/src/templates/order-routing.workflow.json';

const tenant = 'acme';

interface ReplayReportBody {
  readonly run: number;
  readonly passed: boolean;
  readonly reasons: string[];
  readonly againstRelease?: string;
  readonly summary: {
    recorded: number;
    replayed: number;
    agreed: number;
    changed: number;
    agreement: number;
    transitions: Record<string, number>;
  };
  readonly override?: { by: string; reason: string };
}

/**
 * Release quality on real Kafka and Postgres: decision records travel `keel.decisions.v1` into the audit log;
 * the replay gate reruns them under candidate guardrails (decisioning's replay, offline planner, no model),
 * blocks the candidate that changes more decisions than its release allows and lets through the one that
 * does not; an admin override is audited; shadow agreement per version; a drift breach rolls the release
 * back because its release says so.
 */
describe('governance release quality (replay gate, shadow agreement, drift rollback)', () => {
  const namespace = testTopicScope('e2e');
  const topics = namespacedTopics(namespace);
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const publisher = new EventPublisher(sender);
  let database: ScratchDatabase;
  let client: Client;
  let app: INestApplication;
  let url: string;
  let alice: string;
  let bob: string;
  let admin: string;

  beforeAll(async () => {
    database = await scratchDatabase('keel_governance_quality');
    client = new Client({ connectionString: database.url });
    await client.connect();
    await ensureTopics(kafka, topicSpecsWithDeadLetters(Object.values(topics)));
    const env = {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
      KEEL_TOPIC_NAMESPACE: namespace,
      OUTBOX_POLL_MS: '50',
      PORT: '0',
      ...testAccessEnv,
      GOVERNANCE_AUDIT_KEY: 'governance-quality-e2e-audit-key-0123456789',
      GOVERNANCE_RATE_LIMIT: '100000',
      GOVERNANCE_REPLAY_MIN_RECORDED: '10',
      GOVERNANCE_DRIFT_MIN_DECISIONS: '10',
      GOVERNANCE_DRIFT_WINDOW: '100',
      // The test asks for each evaluation, so what it sees does not depend on a timer.
      GOVERNANCE_QUALITY_INTERVAL_MS: '0',
    };
    const config = {
      ...loadConfig(governanceConfigSchema, env),
      ...loadConfig(governanceQualityConfigSchema, env),
    };
    app = await startServiceApp(governanceService, config, silentLogger('governance'));
    url = await app.getUrl();
    alice = await token('alice', ['operator']);
    bob = await token('bob', ['operator', 'approver']);
    admin = await token('root', ['admin']);
  });

  afterAll(async () => {
    await app?.close();
    await client?.end();
    await database?.drop();
    await sender.disconnect();
    await deleteNamespaceTopics(kafka, namespace);
  });

  const token = (subject: string, roles: readonly Role[]): Promise<string> =>
    testTokens.bearerFor({ subject, tenant, roles });


  const call = <Body = unknown>(method: string, path: string, authorization: string, body?: unknown) =>
    callJson<Body>(method, `${url}${path}`, { authorization, body });


  async function publishDecisions(records: readonly DecisionRecord[], time: Date): Promise<void> {
    await publisher.publish(
      topics.decisions,
      records.map((record) =>
        buildEvent(topics.decisions, {
          id: `${record.mode}-${record.decisionId}-${record.versions.guardrailPolicy.version}`,
          source: 'urn:keel:decisioning',
          type: 'keel.decision.made',
          time: time.toISOString(),
          subject: record.caseId,
          tenant,
          correlationid: record.caseId,
          idempotencykey: `${record.mode}-${record.decisionId}-${record.versions.guardrailPolicy.version}`,
          data: record,
        }),
      ),
    );
  }

  async function auditedDecisions(): Promise<number> {
    const [row] = await client
      .query<{ count: string }>(
        `SELECT count(*) FROM governance.audit_log WHERE tenant = $1 AND topic = 'keel.decisions.v1'`,
        [tenant],
      )
      .then((result) => result.rows);
    return Number(row?.count ?? 0);
  }

  async function qualityActs(): Promise<{ type: string; subject: string; data: Record<string, unknown> }[]> {
    const result = await client.query<{ type: string; subject: string; data: Record<string, unknown> }>(
      `SELECT type, subject, event->'data' AS data FROM governance.audit_log
       WHERE tenant = $1 AND topic = 'keel.governance.quality' ORDER BY position`,
      [tenant],
    );
    return result.rows;
  }

  /** Proposes a release and takes it through review to shadow (bob approves alice's release). */
  async function toShadow(id: string, guardrailsVersion: number, quality?: unknown): Promise<void> {
    const proposal = {
      id,
      agentPolicy: { name: 'support-agent', version: 1 },
      prompt: { name: 'decide', version: 1 },
      model: 'offline-planner@1',
      guardrailPolicy: { name: 'guardrails', version: guardrailsVersion },
      workflowTemplates: [{ name: 'order-routing', version: 1 }],
      ...(quality === undefined ? {} : { quality }),
    };
    expect((await call('POST', '/v1/releases', alice, proposal)).status).toBe(201);
    expect((await call('POST', `/v1/releases/${id}/submit`, alice)).status).toBe(200);
    expect((await call('POST', `/v1/releases/${id}/approve`, bob)).status).toBe(200);
    expect((await call('POST', `/v1/releases/${id}/promote`, bob, { stage: 'shadow' })).status).toBe(200);
  }

  const promote = (id: string) =>
    call<{ error?: string; state?: string; details?: unknown }>('POST', `/v1/releases/${id}/promote`, bob, {
      stage: 'production',
    });
  const gate = { minAgreement: 0.9, maxChangedDecisions: 2 };

  it('blocks the candidate that changes too many decisions, passes the one that does not, and rolls back on drift', async () => {
    for (const [kind, name, content] of [
      ['agent-policy', 'support-agent', currentArtifacts.agentPolicy],
      ['prompt', 'decide', currentArtifacts.prompt],
      ['guardrail-policy', 'guardrails', currentArtifacts.guardrailPolicy],
      ['guardrail-policy', 'guardrails', lenientGuardrails()],
      ['guardrail-policy', 'guardrails', strictGuardrails()],
      ['workflow-template', 'order-routing', orderRouting],
    ] as const) {
      const answer = await call('POST', `/v1/artifacts/${kind}/${name}/versions`, alice, { content });
      expect([kind, answer.status]).toEqual([kind, 201]);
    }
    // Registry versions 1, 2, 3 of guardrails: v1, the lenient and the strict candidate.
    await toShadow('r1', 1);
    expect(await promote('r1')).toMatchObject({ status: 200, body: { state: 'production' } });

    // Production's record: 40 orders under r1, decided by decisioning's agent an hour before the candidates.
    const amounts = Array.from({ length: 40 }, (_, index) => (index === 39 ? 1100 : 100 + index * 20));
    const production = await Promise.all(
      amounts.map((amount, index) => decide(orderCreated(index, amount, tenant), currentArtifacts)),
    );
    await publishDecisions(production, new Date(Date.now() - 3_600_000));
    await waitFor(async () => (await auditedDecisions()) >= 40, { what: '40 decisions in the audit log' });

    // The strict candidate: no workflow for new orders — every one of the 40 decisions changes.
    await toShadow('strict', 3, { replayGate: gate });
    expect(await promote('strict')).toMatchObject({ status: 409, body: { error: 'replay-required' } });
    const strictReplay = await call<ReplayReportBody>('POST', '/v1/releases/strict/replay', alice);
    expect(strictReplay).toMatchObject({
      status: 201,
      body: {
        run: 1,
        passed: false,
        againstRelease: 'r1',
        summary: { recorded: 40, replayed: 40, agreed: 0, changed: 40, agreement: 0 },
      },
    });
    expect(strictReplay.body.summary.transitions).toEqual({
      'start_workflow→escalate': 39,
      'start_workflow+approval→escalate': 1,
    });
    expect(strictReplay.body.reasons).toEqual([
      "agreement 0.0% is below the release's minimum 90.0%",
      '40 decisions would change; the release allows at most 2',
    ]);
    const blocked = await promote('strict');
    expect(blocked).toMatchObject({
      status: 409,
      body: { error: 'replay-gate-blocked', changed: 40, recorded: 40, agreement: 0 },
    });

    // An override is an admin's alone, and is audited with its reason and the figures it overrode.
    expect(
      (await call('POST', '/v1/releases/strict/replay/override', bob, { reason: 'ship it' })).status,
    ).toBe(403);
    const overridden = await call<ReplayReportBody>('POST', '/v1/releases/strict/replay/override', admin, {
      reason: 'escalating new orders is intended during the carrier outage',
    });
    expect(overridden).toMatchObject({
      status: 200,
      body: {
        run: 1,
        override: { by: 'root', reason: 'escalating new orders is intended during the carrier outage' },
      },
    });

    // A person rejected the order of 1,100 when it came up for approval: its outcome is known, overridden.
    await publisher.publish(topics.approvals, [
      buildEvent(topics.approvals, {
        id: 'approval-answer-order-39',
        source: 'urn:keel:workflow',
        type: 'keel.approval.rejected',
        time: new Date(Date.now() - 3_000_000).toISOString(),
        subject: 'order-39',
        tenant,
        correlationid: 'order-39',
        idempotencykey: 'approval-answer-order-39',
        data: {
          status: 'rejected',
          approvalId: 'approval-order-39',
          instanceId: 'wf-order-39',
          stepId: 'approve',
          run: 1,
          decidedBy: 'carol',
          reason: 'a standard order of 1,100 needs no sign-off',
        },
      }),
    ]);
    await waitFor(
      async () =>
        (await client.query(`SELECT 1 FROM governance.audit_log WHERE event_id = 'approval-answer-order-39'`))
          .rowCount === 1,
      { what: 'the approval answer in the audit log' },
    );

    // The lenient candidate: only the order of 1,100 changes (it no longer needs approval): 39 of 40 agree,
    // and the one it changes is the one a person overrode.
    await toShadow('lenient', 2, {
      replayGate: gate,
      drift: { maxMixShift: 0.2, autoRollback: true },
    });
    const lenientReplay = await call<ReplayReportBody>('POST', '/v1/releases/lenient/replay', alice);
    expect(lenientReplay).toMatchObject({
      status: 201,
      body: {
        passed: true,
        reasons: [],
        summary: {
          recorded: 40,
          replayed: 40,
          agreed: 39,
          changed: 1,
          agreement: 39 / 40,
          outcomes: { known: 1, changedWhereOverridden: 1, changedWhereConfirmed: 0 },
        },
      },
    });
    expect(lenientReplay.body.summary.transitions).toEqual({ 'start_workflow+approval→start_workflow': 1 });
    expect(await promote('lenient')).toMatchObject({ status: 200, body: { state: 'production' } });
    expect(await call('GET', '/v1/releases/lenient/replay', alice)).toMatchObject({
      status: 200,
      body: { run: 1 },
    });

    const acts = await qualityActs();
    expect(acts.map((act) => `${act.type}:${act.subject}`)).toEqual([
      'keel.governance.replay.evaluated:strict',
      'keel.governance.replay.overridden:strict',
      'keel.governance.replay.evaluated:lenient',
    ]);
    expect(acts[1]?.data).toMatchObject({
      by: 'root',
      changed: 40,
      reason: expect.stringContaining('carrier outage'),
    });

    // Shadow: the strict policy decides beside production on ten of the orders; recorded, compared, never acted on.
    const shadow = await Promise.all(
      amounts
        .slice(0, 10)
        .map((amount, index) =>
          decide(orderCreated(index, amount, tenant), withGuardrails(strictGuardrails(), true)),
        ),
    );
    await publishDecisions(shadow, new Date(Date.now() - 1_800_000));
    await waitFor(async () => (await auditedDecisions()) >= 50, { what: '50 decisions in the audit log' });
    const agreement = await call<{ versions: unknown[] }>('GET', '/v1/quality/shadow', alice);
    expect(agreement).toMatchObject({
      status: 200,
      body: {
        versions: [
          { version: 'agent-policy@1+guardrails@3', compared: 10, agreed: 0, agreement: 0, unmatched: 0 },
        ],
      },
    });

    expect(await call('GET', '/v1/quality/shadow?window=0', alice)).toMatchObject({
      status: 400,
      body: { error: 'invalid-request' },
    });

    // Drift: under the lenient release orders arrive without addresses and the agent asks for them instead
    // of starting workflows — a decision-mix shift of 1 against the release's 0.2.
    const drifted = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        decide(orderWithoutAddress(index, 120, tenant), withGuardrails(lenientGuardrails())),
      ),
    );
    await publishDecisions(drifted, new Date());
    await waitFor(async () => (await auditedDecisions()) >= 70, { what: '70 decisions in the audit log' });
    const evaluation = await call<{
      breached: boolean;
      rolledBack: boolean;
      report: { breaches: unknown[] };
    }>('POST', '/v1/quality/drift/evaluate', alice);
    expect(evaluation).toMatchObject({
      status: 200,
      body: {
        releaseId: 'lenient',
        version: 'agent-policy@1+guardrails@2',
        breached: true,
        rolledBack: true,
        report: {
          baseline: { decisions: 40 },
          current: { decisions: 20 },
          breaches: expect.arrayContaining([{ signal: 'decision-mix', value: 1, limit: 0.2 }]),
        },
      },
    });
    expect(await call('GET', '/v1/quality/drift', alice)).toMatchObject({
      status: 200,
      body: { releaseId: 'lenient', breached: true, rolledBack: true },
    });
    const releases = await call<
      { id: string; state: string; history: { actor: string; reason?: string }[] }[]
    >('GET', '/v1/releases', alice);
    const states = Object.fromEntries(releases.body.map((release) => [release.id, release.state]));
    expect(states).toEqual({ r1: 'production', lenient: 'rolled-back', strict: 'approved' });
    expect(releases.body.find((release) => release.id === 'lenient')?.history.at(-1)).toMatchObject({
      actor: 'governance-drift-monitor',
      reason: expect.stringContaining('decision-mix 1 > 0.2'),
    });

    // The rollback is published like an operator's, and audited with the breach.
    const rollbacks = await readTopic(
      kafka,
      topics.releases.name,
      4,
      (message) =>
        decodeEvent(topics.releases, message as unknown as KafkaRecord).data.action === 'rolled_back',
    );
    expect(
      rollbacks.map((message) => decodeEvent(topics.releases, message as unknown as KafkaRecord).data),
    ).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          artifactKind: 'guardrail-policy',
          version: 2,
          actor: 'governance-drift-monitor',
        }),
      ]),
    );
    expect((await qualityActs()).map((act) => act.type).slice(-2)).toEqual([
      'keel.governance.drift.breached',
      'keel.governance.drift.rolled_back',
    ]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(
      'keel_governance_drift_breach{tenant="acme",version="agent-policy@1+guardrails@2",signal="decision-mix",service="governance"} 1',
    );
    expect(metrics).toContain(
      'keel_governance_shadow_agreement_ratio{tenant="acme",version="agent-policy@1+guardrails@3",service="governance"} 0',
    );
    expect(metrics).toContain('keel_governance_drift_rollbacks_total{tenant="acme",service="governance"} 1');
  });
});
