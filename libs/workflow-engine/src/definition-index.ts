import {
  type StepDefinition,
  type StepId,
  type TaskStep,
  type WorkflowDefinition,
  type WorkflowDefinitionData,
} from './definition.schema';

/** Where in the data something is, as JSON path segments. */
export type DataPath = ReadonlyArray<string | number>;

/** A flow of steps that may reach each other: the top level, or one branch of a parallel step. */
export type ScopeId = string;

/** Scope id of the top-level flow. */
export const rootScope: ScopeId = 'root';

/** Scope id of branch `index` of parallel step `parallelId`; `[` cannot appear in step ids, so ids never clash. */
export function branchScope(parallelId: StepId, index: number): ScopeId {
  return `${parallelId}[${index}]`;
}

export interface StepLocation {
  readonly id: StepId;
  readonly step: StepDefinition;
  readonly scope: ScopeId;
  readonly path: DataPath;
}

export interface ScopeInfo {
  readonly id: ScopeId;
  readonly start: StepId;
  readonly startPath: DataPath;
  readonly stepIds: readonly StepId[];
  /** Set for branch scopes. */
  readonly branchOf?: { readonly parallelId: StepId; readonly index: number };
}

export interface DefinitionIndex {
  readonly steps: ReadonlyMap<StepId, StepLocation>;
  readonly scopes: ReadonlyMap<ScopeId, ScopeInfo>;
  /** Second and later occurrences of a step id used in more than one scope. */
  readonly duplicates: readonly StepLocation[];
}

/** Flattens the nested step maps into one lookup by id, remembering each step's scope. */
export function buildIndex(data: WorkflowDefinitionData): DefinitionIndex {
  const steps = new Map<StepId, StepLocation>();
  const scopes = new Map<ScopeId, ScopeInfo>();
  const duplicates: StepLocation[] = [];

  const addScope = (
    id: ScopeId,
    start: StepId,
    startPath: DataPath,
    map: Readonly<Record<StepId, StepDefinition>>,
    mapPath: DataPath,
    branchOf?: ScopeInfo['branchOf'],
  ): void => {
    scopes.set(id, { id, start, startPath, stepIds: Object.keys(map), ...(branchOf ? { branchOf } : {}) });
    for (const [stepId, step] of Object.entries(map)) {
      const location: StepLocation = { id: stepId, step, scope: id, path: [...mapPath, stepId] };
      if (steps.has(stepId)) duplicates.push(location);
      else steps.set(stepId, location);
      if (step.kind === 'parallel') {
        step.branches.forEach((branch, index) => {
          const branchPath = [...location.path, 'branches', index];
          addScope(
            branchScope(stepId, index),
            branch.start,
            [...branchPath, 'start'],
            branch.steps,
            [...branchPath, 'steps'],
            {
              parallelId: stepId,
              index,
            },
          );
        });
      }
    }
  };

  addScope(rootScope, data.start, ['start'], data.steps, ['steps']);
  return { steps, scopes, duplicates };
}

const indexes = new WeakMap<WorkflowDefinition, DefinitionIndex>();

/** Index of a validated (hence frozen) definition, built once per definition object. */
export function definitionIndex(definition: WorkflowDefinition): DefinitionIndex {
  let index = indexes.get(definition);
  if (index === undefined) {
    index = buildIndex(definition);
    indexes.set(definition, index);
  }
  return index;
}

/** The outgoing transitions of a step within its scope, with the field each one is declared in. */
export function transitionsOf(
  step: StepDefinition,
): Array<{ readonly field: DataPath; readonly target: StepId }> {
  switch (step.kind) {
    case 'task':
    case 'wait':
    case 'decision':
    case 'parallel':
      return [{ field: ['next'], target: step.next }];
    case 'choice':
      return [
        ...step.choices.map((choice, index) => ({ field: ['choices', index, 'next'], target: choice.next })),
        { field: ['otherwise'], target: step.otherwise },
      ];
    case 'approval':
      return [
        { field: ['next'], target: step.next },
        ...(typeof step.onReject === 'object'
          ? [{ field: ['onReject', 'next'], target: step.onReject.next }]
          : []),
      ];
    case 'end':
      return [];
  }
}

/** Looks up a step that validation guarantees exists. */
export function locate(index: DefinitionIndex, stepId: StepId): StepLocation {
  const location = index.steps.get(stepId);
  if (location === undefined) throw new Error(`step '${stepId}' is not in the definition`);
  return location;
}

/** Looks up a task step that validation guarantees exists. */
export function taskStep(index: DefinitionIndex, stepId: StepId): TaskStep {
  const { step } = locate(index, stepId);
  if (step.kind !== 'task') throw new Error(`step '${stepId}' is a ${step.kind} step, not a task`);
  return step;
}
