import { workflowTemplates } from '@keel/workflow-engine';

/**
 * The support-routing template waits one or four hours for its SLA; the demo runs a copy, one version up,
 * whose SLA wait is one or four seconds (the rest is the bundled template unchanged), so a replay reaches the
 * SLA check and the lead's approval within the run.
 */
export function demoSupportRouting(): Record<string, unknown> {
  const bundled = workflowTemplates.find((template) => template.name === 'support-routing');
  if (!bundled) throw new Error('the bundled support-routing template is missing');
  const copy = JSON.parse(JSON.stringify(bundled)) as {
    version: number;
    description?: string;
    steps: Record<string, Record<string, unknown>>;
  };
  copy.version = bundled.version + 1;
  copy.description = `${bundled.description ?? ''} (embedded demo: SLA waits in seconds, not hours)`;
  copy.steps.slaTimer = {
    ...copy.steps.slaTimer,
    description: 'One second for high priority tickets, four otherwise (the demo clock).',
    until: "$fromMillis($millis() + (input.priority = 'high' ? 1000 : 4000))",
  };
  return copy;
}
