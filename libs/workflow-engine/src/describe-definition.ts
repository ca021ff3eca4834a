import { definitionIndex, rootScope, transitionsOf } from './definition-index';
import {
  type StepDefinition,
  type StepId,
  type StepKind,
  type WorkflowDefinition,
} from './definition.schema';

/** One step as shown in catalogues and UIs. */
export interface StepSummary {
  readonly id: StepId;
  readonly kind: StepKind;
  /** `root`, or `<parallelStepId>[<branchIndex>]`. */
  readonly scope: string;
  readonly next: readonly StepId[];
  readonly connector?: 'http' | 'kafka' | 'postgres';
  readonly compensated: boolean;
}

/** A definition at a glance, including a Mermaid flowchart of it. */
export interface DefinitionSummary {
  readonly name: string;
  readonly version: number;
  readonly description?: string;
  readonly start: StepId;
  readonly steps: readonly StepSummary[];
  readonly compensatedSteps: readonly StepId[];
  readonly mermaid: string;
}

/** Summarises a definition for catalogues, the operator UI and docs. */
export function describeDefinition(definition: WorkflowDefinition): DefinitionSummary {
  const index = definitionIndex(definition);
  const steps = [...index.steps.values()].map(({ id, step, scope }): StepSummary => ({
    id,
    kind: step.kind,
    scope,
    next: transitionsOf(step).map((transition) => transition.target),
    ...(step.kind === 'task' ? { connector: step.connector.type } : {}),
    compensated: step.kind === 'task' && step.compensate !== undefined,
  }));
  return {
    name: definition.name,
    version: definition.version,
    ...(definition.description === undefined ? {} : { description: definition.description }),
    start: definition.start,
    steps,
    compensatedSteps: steps.filter((step) => step.compensated).map((step) => step.id),
    mermaid: mermaidOf(definition),
  };
}

function label(text: string): string {
  const short = text.length > 48 ? `${text.slice(0, 45)}...` : text;
  return `"${short.replace(/"/g, '#quot;')}"`;
}

function node(id: StepId, step: StepDefinition): string {
  switch (step.kind) {
    case 'task':
      return `${id}[${label(`${id} · ${step.connector.type}${step.compensate ? ' ↺' : ''}`)}]`;
    case 'choice':
      return `${id}{${label(id)}}`;
    case 'approval':
      return `${id}[/${label(`${id} · approval`)}/]`;
    case 'wait':
      return `${id}([${label(`${id} · wait`)}])`;
    case 'decision':
      return `${id}{{${label(`${id} · decision`)}}}`;
    case 'parallel':
      return `${id}[[${label(`${id} · parallel`)}]]`;
    case 'end':
      return `${id}((${label(`${id} · ${step.status}`)}))`;
  }
}

function edges(id: StepId, step: StepDefinition): string[] {
  switch (step.kind) {
    case 'choice':
      return [
        ...step.choices.map((choice) => `${id} -- ${label(choice.when)} --> ${choice.next}`),
        `${id} -- otherwise --> ${step.otherwise}`,
      ];
    case 'approval':
      return [
        `${id} -- approved --> ${step.next}`,
        ...(typeof step.onReject === 'object' ? [`${id} -- rejected --> ${step.onReject.next}`] : []),
      ];
    case 'parallel':
      return [
        ...step.branches.map((branch) => `${id} -.-> ${branch.start}`),
        `${id} -- all branches done --> ${step.next}`,
      ];
    case 'task':
    case 'wait':
    case 'decision':
    case 'end':
      return transitionsOf(step).map((transition) => `${id} --> ${transition.target}`);
  }
}

function mermaidOf(definition: WorkflowDefinition): string {
  const index = definitionIndex(definition);
  const lines = ['flowchart TD'];
  for (const scope of index.scopes.values()) {
    const indent = scope.id === rootScope ? '  ' : '    ';
    if (scope.branchOf !== undefined) {
      lines.push(`  subgraph ${scope.branchOf.parallelId}_${scope.branchOf.index} [${label(scope.id)}]`);
    }
    for (const stepId of scope.stepIds) {
      const location = index.steps.get(stepId);
      if (location !== undefined) lines.push(`${indent}${node(stepId, location.step)}`);
    }
    if (scope.branchOf !== undefined) lines.push('  end');
  }
  for (const { id, step } of index.steps.values()) lines.push(...edges(id, step).map((edge) => `  ${edge}`));
  return lines.join('\n');
}
