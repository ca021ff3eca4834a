import { Registry } from 'prom-client';
import { type KpiMetrics, createKpiMetrics } from './kpi.metrics';
import type { SimulatorServer } from './simulator-server';
import {
  CarrierSimulator,
  type CarrierOptions,
  InventorySimulator,
  type InventoryOptions,
  OrderSystemSimulator,
  RemediationSimulator,
  type RemediationOutcomeWriter,
  SupportDeskSimulator,
  type SupportDeskOptions,
} from './target-systems';

export interface TargetSystemsOptions {
  readonly inventory?: InventoryOptions;
  readonly carriers?: CarrierOptions;
  readonly support?: SupportDeskOptions;
  /** Where remediation outcomes go for the exception-handling template's verify statement. */
  readonly recordRemediation: RemediationOutcomeWriter;
  /** Registry the KPI metrics are registered on (a new one by default). */
  readonly registry?: Registry;
}

/**
 * The systems the bundled workflow templates call, each an HTTP server on a port of its own, with their
 * KPIs on one registry. `workflowHttpServices()` is the workflow service's `WORKFLOW_HTTP_SERVICES`.
 */
export class TargetSystems {
  readonly registry: Registry;
  readonly kpis: KpiMetrics;
  readonly inventory: InventorySimulator;
  readonly carriers: CarrierSimulator;
  readonly orders: OrderSystemSimulator;
  readonly remediation: RemediationSimulator;
  readonly support: SupportDeskSimulator;

  constructor(options: TargetSystemsOptions) {
    this.registry = options.registry ?? new Registry();
    this.kpis = createKpiMetrics(this.registry);
    this.inventory = new InventorySimulator(options.inventory);
    this.carriers = new CarrierSimulator(options.carriers);
    this.orders = new OrderSystemSimulator(this.carriers, this.kpis);
    this.remediation = new RemediationSimulator(this.kpis, options.recordRemediation);
    this.support = new SupportDeskSimulator(this.kpis, options.support);
  }

  private get servers(): SimulatorServer[] {
    return [this.inventory, this.carriers, this.orders, this.remediation, this.support];
  }

  /** Starts every system on a free port (or consecutive ports from `firstPort`). */
  async start(firstPort?: number): Promise<void> {
    for (const [index, server] of this.servers.entries()) {
      await server.start(firstPort === undefined ? 0 : firstPort + index);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()));
  }

  /** `name=url,…` for every system, as `WORKFLOW_HTTP_SERVICES` takes it. */
  workflowHttpServices(): string {
    return this.servers.map((server) => `${server.name}=${server.url}`).join(',');
  }
}
