import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import type { WorkflowInput } from '@keel/workflow-engine';
import { type TransitionOutcome, WorkflowExecutor } from '../execution/workflow-executor';
import { DefinitionRegistry } from '../persistence/definition.registry';
import type { Transactions, WorkflowRepositories } from '../persistence/workflow-repositories';
import { WORKFLOW_REPOSITORIES, WORKFLOW_TRANSACTIONS } from '../persistence/workflow-repositories.tokens';
import { WorkflowRuntimeError } from '../workflow-runtime.error';
import {
  cancelRequestSchema,
  listQuerySchema,
  parseRequest,
  startRequestSchema,
  stepRequestSchema,
} from './workflow-requests';

/** Read endpoints for instances and their history, and the operator's commands. */
@Controller()
export class WorkflowInstancesController {
  constructor(
    @Inject(WORKFLOW_TRANSACTIONS) private readonly transactions: Transactions,
    private readonly executor: WorkflowExecutor,
    private readonly registry: DefinitionRegistry,
    @Inject(WORKFLOW_REPOSITORIES)
    private readonly repositories: Pick<WorkflowRepositories, 'instances' | 'transitions'>,
  ) {}

  @Get('workflows')
  workflows() {
    return this.registry.list();
  }

  @Get('instances')
  async list(@Query() query: unknown) {
    const { status, workflow, limit } = parseRequest(listQuerySchema, query, 'query');
    return this.repositories.instances.list(this.transactions.outside, {
      ...(status === undefined ? {} : { status }),
      ...(workflow === undefined ? {} : { workflow }),
      limit,
    });
  }

  @Get('instances/:id')
  async get(@Param('id') id: string) {
    const instance = await this.repositories.instances.find(this.transactions.outside, id);
    if (!instance) throw new WorkflowRuntimeError('unknown-instance', `no workflow instance '${id}'`);
    return instance;
  }

  @Get('instances/:id/history')
  async history(@Param('id') id: string) {
    const { instances, transitions } = this.repositories;
    if (!(await instances.exists(this.transactions.outside, id)))
      throw new WorkflowRuntimeError('unknown-instance', `no workflow instance '${id}'`);
    return transitions.history(this.transactions.outside, id);
  }

  @Post('instances')
  @HttpCode(201)
  start(@Body() body: unknown): Promise<TransitionOutcome> {
    const request = parseRequest(startRequestSchema, body, 'body');
    const instanceId = request.instanceId ?? randomUUID();
    return this.transactions.run((manager) =>
      this.executor.start(manager, {
        instanceId,
        workflow: request.workflow,
        ...(request.version === undefined ? {} : { version: request.version }),
        input: request.input,
        owner: {
          caseId: request.caseId,
          tenant: request.tenant,
          correlationId: request.correlationId ?? instanceId,
        },
      }),
    );
  }

  @Post('instances/:id/cancel')
  @HttpCode(200)
  cancel(@Param('id') id: string, @Body() body: unknown): Promise<TransitionOutcome> {
    const { reason, by } = parseRequest(cancelRequestSchema, body, 'body');
    return this.operate(id, { type: 'cancel', reason, by });
  }

  @Post('instances/:id/retry-step')
  @HttpCode(200)
  retryStep(@Param('id') id: string, @Body() body: unknown): Promise<TransitionOutcome> {
    const { stepId, by } = parseRequest(stepRequestSchema, body, 'body');
    return this.operate(id, { type: 'retryStep', stepId, by });
  }

  @Post('instances/:id/rerun-from')
  @HttpCode(200)
  rerunFrom(@Param('id') id: string, @Body() body: unknown): Promise<TransitionOutcome> {
    const { stepId, by } = parseRequest(stepRequestSchema, body, 'body');
    return this.operate(id, { type: 'rerunFrom', stepId, by });
  }

  private async operate(id: string, input: WorkflowInput): Promise<TransitionOutcome> {
    const outcome = await this.transactions.run((manager) => this.executor.apply(manager, id, input));
    if (outcome.ignored) throw new WorkflowRuntimeError('not-applicable', outcome.ignored.message);
    return outcome;
  }
}
