import { type DataPath } from './definition-index';
import { dataPath, validateDefinition } from './definition-loader';
import {
  type ApprovalStep,
  type ChoiceStep,
  type DecisionStep,
  type EndStep,
  type TaskRetryPolicy,
  type StepDefinition,
  type StepId,
  type TaskStep,
  type WorkflowDefinition,
  type WorkflowSchedule,
} from './definition.schema';
import { DefinitionProblemCode, type DefinitionProblem } from './definition.error';

/**
 * A task as written in code; `retry` fields and `startToCloseMs` fall back to the defaults (`timeoutMs` is
 * accepted as start-to-close's older name, as in definition files).
 */
export type TaskSpec = Omit<TaskStep, 'kind' | 'retry' | 'startToCloseMs'> & {
  readonly retry?: Partial<TaskRetryPolicy>;
  readonly startToCloseMs?: number;
  readonly timeoutMs?: number;
};
export type ChoiceSpec = Omit<ChoiceStep, 'kind'>;
/** `onTimeout` defaults to `reject`, `onReject` to `compensate`. */
export type ApprovalSpec = Omit<ApprovalStep, 'kind' | 'onTimeout' | 'onReject'> &
  Partial<Pick<ApprovalStep, 'onTimeout' | 'onReject'>>;
export type WaitSpec = { readonly next: StepId; readonly description?: string } & (
  { readonly durationMs: number } | { readonly until: string }
);
export type DecisionSpec = Omit<DecisionStep, 'kind'>;
export type EndSpec = Partial<Omit<EndStep, 'kind'>>;
export interface ParallelSpec {
  /** One function per branch; each adds the branch's steps, the first added being its start. */
  readonly branches: ReadonlyArray<(branch: BranchBuilder) => BranchBuilder>;
  readonly next: StepId;
  readonly description?: string;
}

// Steps are gathered as unvalidated input (defaults not applied) and checked by the loader's rules on build.
type StepInput = { readonly kind: StepDefinition['kind'] } & Record<string, unknown>;

interface Collected {
  readonly steps: Record<StepId, unknown>;
  readonly start: StepId | undefined;
  readonly problems: DefinitionProblem[];
}

// A parallel step is assembled when its path is known, so its branches can report duplicates precisely.
type DeferredStep = (path: DataPath) => { readonly step: StepInput; readonly problems: DefinitionProblem[] };

/** Adds steps to one flow: the workflow's top level or a parallel branch. */
export abstract class StepsBuilder {
  private readonly steps = new Map<StepId, StepInput | DeferredStep>();
  private readonly repeated: StepId[] = [];
  private startId: StepId | undefined;

  /** Overrides the start step (by default the first step added). */
  start(stepId: StepId): this {
    this.startId = stepId;
    return this;
  }

  task(id: StepId, spec: TaskSpec): this {
    return this.add(id, { kind: 'task', ...spec });
  }

  choice(id: StepId, spec: ChoiceSpec): this {
    return this.add(id, { kind: 'choice', ...spec });
  }

  approval(id: StepId, spec: ApprovalSpec): this {
    return this.add(id, { kind: 'approval', ...spec });
  }

  wait(id: StepId, spec: WaitSpec): this {
    return this.add(id, { kind: 'wait', ...spec });
  }

  decision(id: StepId, spec: DecisionSpec): this {
    return this.add(id, { kind: 'decision', ...spec });
  }

  end(id: StepId, spec: EndSpec = {}): this {
    return this.add(id, { kind: 'end', ...spec });
  }

  parallel(id: StepId, spec: ParallelSpec): this {
    const { branches, ...rest } = spec;
    return this.add(id, (path) => {
      const problems: DefinitionProblem[] = [];
      const data = branches.map((define, index) => {
        const collected = define(new BranchBuilder()).collect([...path, 'branches', index, 'steps']);
        problems.push(...collected.problems);
        return {
          ...(collected.start === undefined ? {} : { start: collected.start }),
          steps: collected.steps,
        };
      });
      return { problems, step: { kind: 'parallel', ...rest, branches: data } };
    });
  }

  private add(id: StepId, step: StepInput | DeferredStep): this {
    if (this.steps.has(id)) this.repeated.push(id);
    else this.steps.set(id, step);
    return this;
  }

  /** The flow's steps as plain data, plus duplicate ids (which a map would otherwise silently merge). */
  collect(path: DataPath): Collected {
    const steps: Record<StepId, unknown> = {};
    const problems: DefinitionProblem[] = this.repeated.map((id) => ({
      code: DefinitionProblemCode.DuplicateStep,
      path: dataPath([...path, id]),
      message: `step '${id}' is added more than once`,
    }));
    for (const [id, step] of this.steps) {
      if (typeof step === 'function') {
        const nested = step([...path, id]);
        problems.push(...nested.problems);
        steps[id] = nested.step;
      } else {
        steps[id] = step;
      }
    }
    return { steps, start: this.startId ?? this.steps.keys().next().value, problems };
  }
}

/** Builds one branch of a parallel step. */
export class BranchBuilder extends StepsBuilder {}

/**
 * Builds a definition in code. The result is the same data `loadDefinition` accepts and goes through the same
 * validation, so a built definition and a loaded one behave identically.
 *
 * @example
 * workflow('order-routing', 1)
 *   .task('reserve', { connector: { type: 'http', service: 'inventory', method: 'POST', path: '/reservations' }, next: 'done' })
 *   .end('done')
 *   .build();
 */
export class WorkflowBuilder extends StepsBuilder {
  private descriptionText: string | undefined;
  private scheduleSpec: WorkflowSchedule | undefined;

  constructor(
    private readonly name: string,
    private readonly version: number,
  ) {
    super();
  }

  describe(description: string): this {
    this.descriptionText = description;
    return this;
  }

  schedule(cron: string, input: WorkflowSchedule['input'] = {}): this {
    this.scheduleSpec = { cron, input };
    return this;
  }

  /** @throws WorkflowDefinitionError with every problem, exactly as `loadDefinition` would. */
  build(): WorkflowDefinition {
    const { steps, start, problems } = this.collect(['steps']);
    return validateDefinition(
      {
        name: this.name,
        version: this.version,
        ...(this.descriptionText === undefined ? {} : { description: this.descriptionText }),
        start,
        steps,
        ...(this.scheduleSpec === undefined ? {} : { schedule: this.scheduleSpec }),
      },
      problems,
    );
  }
}

/** Starts a typed builder for workflow `name` at `version`. */
export function workflow(name: string, version: number): WorkflowBuilder {
  return new WorkflowBuilder(name, version);
}
