import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The use cases' business KPIs, each measured where the fact happens: the order system sees an order from
 * placement to confirmation, the carriers price and promise, the remediation desk resolves or not, the
 * support desk assigns tickets to queues of a known capacity. What no target system sees — when a workflow
 * escalated, when a ticket's SLA ran out — is measured from the workflow events (`WorkflowKpiObserver`).
 */
export interface KpiMetrics {
  /** Order routing: placement to confirmation. */
  readonly orderCycle: Histogram<never>;
  /** Order routing: confirmed orders by whether the carrier's promised delivery meets the customer's date. */
  readonly deliveries: Counter<'on_time'>;
  /** Order routing: carrier cost of confirmed orders (÷ `orders confirmed` = cost per order). */
  readonly orderCost: Counter<'currency'>;
  readonly ordersConfirmed: Counter<never>;
  /** Exception handling: remediations by outcome (resolved ÷ all = remediation success rate). */
  readonly remediations: Counter<'action' | 'outcome'>;
  /** Exception handling: exception raised to escalation to a person. */
  readonly escalationLatency: Histogram<'workflow'>;
  /** Exception handling throughput: exceptions whose workflow finished, by status. */
  readonly exceptionsHandled: Counter<'status'>;
  /** Support routing: ticket created to its first assignment to a queue (first contact). */
  readonly firstContact: Histogram<'queue'>;
  /** Support routing: open assignments ÷ agents, per queue. */
  readonly queueUtilisation: Gauge<'queue'>;
  /** Support routing: tickets still unresolved when their SLA ran out. */
  readonly slaBreaches: Counter<never>;
}

const latencyBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600];

export function createKpiMetrics(registry: Registry): KpiMetrics {
  const registers = [registry];
  return {
    orderCycle: new Histogram({
      name: 'keel_kpi_order_cycle_seconds',
      help: 'Order placed (the order system sent order.placed) to confirmed (the order system got the confirmation)',
      buckets: latencyBuckets,
      registers,
    }),
    deliveries: new Counter({
      name: 'keel_kpi_order_deliveries_total',
      help: "Confirmed orders by whether the booked carrier's promised delivery is within the order's promised date",
      labelNames: ['on_time'],
      registers,
    }),
    orderCost: new Counter({
      name: 'keel_kpi_order_carrier_cost_total',
      help: 'Carrier cost of confirmed orders, in the currency labelled',
      labelNames: ['currency'],
      registers,
    }),
    ordersConfirmed: new Counter({
      name: 'keel_kpi_orders_confirmed_total',
      help: 'Orders confirmed by the order routing workflow',
      registers,
    }),
    remediations: new Counter({
      name: 'keel_kpi_remediations_total',
      help: 'Remediations run by the remediation desk, by action and whether they resolved the exception',
      labelNames: ['action', 'outcome'],
      registers,
    }),
    escalationLatency: new Histogram({
      name: 'keel_kpi_escalation_latency_seconds',
      help: 'Case event to the workflow asking a person (approval requested), per workflow',
      labelNames: ['workflow'],
      buckets: latencyBuckets,
      registers,
    }),
    exceptionsHandled: new Counter({
      name: 'keel_kpi_exceptions_handled_total',
      help: 'Fulfilment exceptions whose exception-handling workflow finished, by final status',
      labelNames: ['status'],
      registers,
    }),
    firstContact: new Histogram({
      name: 'keel_kpi_support_first_contact_seconds',
      help: 'Ticket created to its first assignment to a support queue',
      labelNames: ['queue'],
      buckets: latencyBuckets,
      registers,
    }),
    queueUtilisation: new Gauge({
      name: 'keel_kpi_support_queue_utilisation_ratio',
      help: 'Open ticket assignments per agent of the queue',
      labelNames: ['queue'],
      registers,
    }),
    slaBreaches: new Counter({
      name: 'keel_kpi_support_sla_breaches_total',
      help: 'Tickets still unresolved when their SLA elapsed (support routing escalates them)',
      registers,
    }),
  };
}
