import { type ReleaseContents } from '@keel/contracts';

const hash = (digit: string): string => digit.repeat(64);

/** A release's contents for tests: one version of each governed kind. */
export const sampleReleaseContents: ReleaseContents = {
  agentPolicy: { name: 'support-agent', version: 1, contentHash: hash('a') },
  prompt: { name: 'decide', version: 2, contentHash: hash('b') },
  model: 'offline-planner@1',
  guardrailPolicy: { name: 'guardrails', version: 1, contentHash: hash('c') },
  workflowTemplates: [{ name: 'order-routing', version: 3, contentHash: hash('d') }],
};
