import { type CloudEvent, decodeEvent, deadLetterTopicName, topics } from '@keel/contracts';
import type { InProcessBus } from '@keel/messaging';
import type { TargetSystems } from '@keel/simulators';

/** Where each workflow instance rests, read from its last event on `keel.workflow.events.v1`. */
export type InstanceOutcome =
  'completed' | 'failed' | 'compensated' | 'cancelled' | 'awaiting-approval' | 'in-progress';

export interface DemoSummary {
  readonly cases: number;
  readonly caseEvents: number;
  readonly decisionsByAction: Readonly<Record<string, number>>;
  /** Decisions a person must approve before anything is done (guardrails' approval rules). */
  readonly decisionsHeldForApproval: number;
  readonly workflowsByOutcome: Readonly<Record<string, Readonly<Partial<Record<InstanceOutcome, number>>>>>;
  /** Approval steps asked of people and not answered yet (approval requests on the approvals topic). */
  readonly approvalsPending: number;
  readonly deadLetters: Readonly<Record<string, number>>;
  readonly kpis: Readonly<Record<string, number | null>>;
}

const terminal = new Set(['completed', 'failed', 'compensated', 'cancelled']);

function events<T>(bus: InProcessBus, topic: (typeof topics)[keyof typeof topics]): CloudEvent<T>[] {
  return bus.records(topic.name).flatMap(({ message }) => {
    try {
      return [
        decodeEvent(topic, {
          key: message.key,
          value: message.value,
          headers: message.headers ?? {},
        }) as CloudEvent<T>,
      ];
    } catch {
      return [];
    }
  });
}

interface WorkflowEventData {
  readonly instanceId: string;
  readonly template: string;
  readonly transition: string;
  readonly status: string;
}

/** Every instance's template and resting place, from the workflow events in order. */
export function instanceOutcomes(
  bus: InProcessBus,
): Map<string, { template: string; outcome: InstanceOutcome }> {
  const last = new Map<string, { template: string; status: string; transition: string; sequence: number }>();
  for (const event of events<WorkflowEventData & { sequence: number }>(bus, topics.workflowEvents)) {
    const known = last.get(event.data.instanceId);
    if (known && known.sequence > event.data.sequence) continue;
    last.set(event.data.instanceId, { ...event.data });
  }
  const approvals = openApprovals(bus);
  return new Map(
    [...last].map(([instanceId, { template, status }]) => {
      const outcome: InstanceOutcome = terminal.has(status)
        ? (status as InstanceOutcome)
        : approvals.has(instanceId)
          ? 'awaiting-approval'
          : 'in-progress';
      return [instanceId, { template, outcome }];
    }),
  );
}

/** Instance ids with an approval requested and not yet granted or rejected. */
function openApprovals(bus: InProcessBus): Map<string, number> {
  const open = new Map<string, Set<string>>();
  for (const event of events<{ status: string; approvalId: string; instanceId: string }>(
    bus,
    topics.approvals,
  )) {
    const ids = open.get(event.data.instanceId) ?? new Set<string>();
    if (event.data.status === 'requested') ids.add(event.data.approvalId);
    else ids.delete(event.data.approvalId);
    open.set(event.data.instanceId, ids);
  }
  return new Map([...open].filter(([, ids]) => ids.size > 0).map(([id, ids]) => [id, ids.size]));
}

/**
 * Decisions owed and made: every case event and every workflow decision request gets exactly one decision
 * (its id derives from the trigger), so `triggers - decided` is what decisioning still owes.
 */
export function decisionProgress(bus: InProcessBus): { triggers: number; decided: number } {
  const requests = events<WorkflowEventData>(bus, topics.workflowEvents).filter(
    (event) => event.data.transition === 'decision.requested',
  ).length;
  const decided = new Set(events(bus, topics.decisions).map((event) => event.id)).size;
  return { triggers: events(bus, topics.caseEvents).length + requests, decided };
}

export async function summarize(bus: InProcessBus, systems: TargetSystems): Promise<DemoSummary> {
  const caseEvents = events(bus, topics.caseEvents);
  const decisions = events<{ action: { tool: string }; requiresApproval: boolean; mode: string }>(
    bus,
    topics.decisions,
  ).filter((decision) => decision.data.mode === 'production');
  const decisionsByAction: Record<string, number> = {};
  for (const decision of decisions) {
    decisionsByAction[decision.data.action.tool] = (decisionsByAction[decision.data.action.tool] ?? 0) + 1;
  }
  const workflowsByOutcome: Record<string, Partial<Record<InstanceOutcome, number>>> = {};
  for (const { template, outcome } of instanceOutcomes(bus).values()) {
    const byOutcome = (workflowsByOutcome[template] ??= {});
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
  }
  const deadLetters: Record<string, number> = {};
  for (const topic of Object.values(topics)) {
    const count = bus.records(deadLetterTopicName(topic.name)).length;
    if (count > 0) deadLetters[topic.name] = count;
  }
  return {
    cases: new Set(caseEvents.map((event) => event.subject)).size,
    caseEvents: caseEvents.length,
    decisionsByAction,
    decisionsHeldForApproval: decisions.filter((decision) => decision.data.requiresApproval).length,
    workflowsByOutcome,
    approvalsPending: [...openApprovals(bus).values()].reduce((sum, count) => sum + count, 0),
    deadLetters,
    kpis: await kpis(systems),
  };
}

async function kpis(systems: TargetSystems): Promise<Record<string, number | null>> {
  const metrics = await systems.registry.getMetricsAsJSON();
  const values = (name: string) => metrics.find((metric) => metric.name === name)?.values ?? [];
  const sum = (name: string, suffix = '', match: (labels: Record<string, unknown>) => boolean = () => true) =>
    values(name)
      .filter((value) => ((value as { metricName?: string }).metricName ?? name) === `${name}${suffix}`)
      .filter((value) => match(value.labels))
      .reduce((total, value) => total + value.value, 0);
  const ratio = (numerator: number, denominator: number) =>
    denominator > 0 ? Math.round((numerator / denominator) * 1000) / 1000 : null;
  const mean = (name: string) => ratio(sum(name, '_sum'), sum(name, '_count'));
  const confirmed = sum('keel_kpi_orders_confirmed_total');
  const remediations = sum('keel_kpi_remediations_total');
  const utilisation = values('keel_kpi_support_queue_utilisation_ratio').map((value) => value.value);
  return {
    orderCycleSecondsMean: mean('keel_kpi_order_cycle_seconds'),
    onTimeDeliveryRate: ratio(
      sum('keel_kpi_order_deliveries_total', '', (labels) => labels.on_time === 'true'),
      sum('keel_kpi_order_deliveries_total'),
    ),
    costPerOrderEur: ratio(sum('keel_kpi_order_carrier_cost_total'), confirmed),
    escalationLatencySecondsMean: mean('keel_kpi_escalation_latency_seconds'),
    remediationSuccessRate: ratio(
      sum('keel_kpi_remediations_total', '', (labels) => labels.outcome === 'resolved'),
      remediations,
    ),
    exceptionsHandled: sum('keel_kpi_exceptions_handled_total'),
    firstContactSecondsMean: mean('keel_kpi_support_first_contact_seconds'),
    queueUtilisationMax: utilisation.length > 0 ? Math.max(...utilisation) : null,
    slaBreaches: sum('keel_kpi_support_sla_breaches_total'),
  };
}
