export { createKpiMetrics, type KpiMetrics } from './kpi.metrics';
export { SimulatorServer, type SimulatedRequest, type SimulatedResponse } from './simulator-server';
export {
  CarrierSimulator,
  InventorySimulator,
  OrderSystemSimulator,
  RemediationSimulator,
  SupportDeskSimulator,
  type CarrierBooking,
  type CarrierMode,
  type CarrierOptions,
  type InventoryOptions,
  type PlacedOrder,
  type RemediationOutcomeWriter,
  type SupportDeskOptions,
} from './target-systems';
export { TargetSystems, type TargetSystemsOptions } from './target-systems.host';
export { WorkflowKpiObserver } from './workflow-kpi.observer';
