import { randomUUID } from 'node:crypto';
import { CurrentPrincipal, type Principal, ProtectedApi, Roles, assertTenant } from '@keel/access';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { WorkflowInput } from '@keel/workflow-engine';
import { z } from 'zod';
import { type TransitionOutcome, WorkflowExecutor } from '../execution/workflow-executor';
import { DefinitionRegistry } from '../persistence/definition.registry';
import type {
  InstanceSummary,
  Transactions,
  WorkflowRepositories,
} from '../persistence/workflow-repositories';
import { WORKFLOW_REPOSITORIES, WORKFLOW_TRANSACTIONS } from '../persistence/workflow-repositories.tokens';
import { WorkflowRuntimeError } from '../workflow-runtime.error';
import {
  cancelRequestSchema,
  instancePathSchema,
  listQuerySchema,
  parseRequest,
  startRequestSchema,
  stepRequestSchema,
} from './workflow-requests';

const openApi = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0' }) as Record<string, unknown>;

/**
 * Read endpoints for instances and their history, and the operator's commands. Every query is scoped by
 * the token's tenant: another tenant's instance is answered 404, as if it did not exist.
 */
@ApiTags('workflow')
@Controller()
@ProtectedApi()
@Roles('viewer')
export class WorkflowInstancesController {
  constructor(
    @Inject(WORKFLOW_TRANSACTIONS) private readonly transactions: Transactions,
    @Inject(WorkflowExecutor) private readonly executor: WorkflowExecutor,
    @Inject(DefinitionRegistry) private readonly registry: DefinitionRegistry,
    @Inject(WORKFLOW_REPOSITORIES)
    private readonly repositories: Pick<WorkflowRepositories, 'instances' | 'transitions'>,
  ) {}

  // Definitions are the platform's templates, shared by every tenant (releases will scope them per tenant).
  @Get('workflows')
  @ApiOperation({ summary: 'The registered workflow definitions: name@version and content hash' })
  workflows() {
    return this.registry.list();
  }

  @Get('instances')
  @ApiOperation({ summary: "The tenant's instances, newest first" })
  @ApiQuery({ name: 'status', required: false })
  @ApiQuery({ name: 'workflow', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1–500, default 50' })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const { status, workflow, limit } = parseRequest(listQuerySchema, query, 'query');
    return this.repositories.instances.list(this.transactions.outside, {
      tenant: principal.tenant,
      ...(status === undefined ? {} : { status }),
      ...(workflow === undefined ? {} : { workflow }),
      limit,
    });
  }

  @Get('instances/:id')
  @ApiOperation({ summary: 'An instance with its checkpointed state' })
  @ApiResponse({ status: 404, description: 'unknown-instance (or another tenant’s)' })
  async get(@CurrentPrincipal() principal: Principal, @Param() params: unknown) {
    return this.owned(principal, parseRequest(instancePathSchema, params, 'path').id);
  }

  @Get('instances/:id/history')
  @ApiOperation({ summary: 'Every transition of an instance with its input and events' })
  @ApiResponse({ status: 404, description: 'unknown-instance (or another tenant’s)' })
  async history(@CurrentPrincipal() principal: Principal, @Param() params: unknown) {
    const { id } = parseRequest(instancePathSchema, params, 'path');
    await this.owned(principal, id);
    return this.repositories.transitions.history(this.transactions.outside, id);
  }

  @Post('instances')
  @HttpCode(201)
  @Roles('operator')
  @ApiOperation({ summary: "Start an instance for the token's tenant; idempotent on instanceId" })
  @ApiBody({ schema: openApi(startRequestSchema) })
  @ApiResponse({ status: 409, description: 'not-applicable: the instance id is taken by another tenant' })
  start(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<TransitionOutcome> {
    const request = parseRequest(startRequestSchema, body, 'body');
    if (request.tenant !== undefined) assertTenant(principal, request.tenant, 'the body');
    const instanceId = request.instanceId ?? randomUUID();
    return this.transactions.run(async (manager) => {
      const outcome = await this.executor.start(manager, {
        instanceId,
        workflow: request.workflow,
        ...(request.version === undefined ? {} : { version: request.version }),
        input: request.input,
        owner: {
          caseId: request.caseId,
          tenant: principal.tenant,
          correlationId: request.correlationId ?? instanceId,
        },
      });
      // A start of an id that exists answers like the first start did, but only to the instance's own
      // tenant: another's learns that the id is taken, not its status.
      if (outcome.ignored !== undefined) {
        const existing = await this.repositories.instances.find(manager, instanceId);
        if (existing !== undefined && existing.tenant !== principal.tenant) {
          throw new WorkflowRuntimeError('not-applicable', `instance id '${instanceId}' is taken`);
        }
      }
      return outcome;
    });
  }

  @Post('instances/:id/cancel')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Cancel an instance (compensating what it did), with a reason' })
  @ApiBody({ schema: openApi(cancelRequestSchema) })
  @ApiResponse({ status: 409, description: 'not-applicable now' })
  cancel(
    @CurrentPrincipal() principal: Principal,
    @Param() params: unknown,
    @Body() body: unknown,
  ): Promise<TransitionOutcome> {
    const { id } = parseRequest(instancePathSchema, params, 'path');
    const { reason } = parseRequest(cancelRequestSchema, body, 'body');
    return this.operate(principal, id, { type: 'cancel', reason, by: principal.subject });
  }

  @Post('instances/:id/retry-step')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Retry a failed step' })
  @ApiBody({ schema: openApi(stepRequestSchema) })
  @ApiResponse({ status: 409, description: 'not-applicable now' })
  retryStep(
    @CurrentPrincipal() principal: Principal,
    @Param() params: unknown,
    @Body() body: unknown,
  ): Promise<TransitionOutcome> {
    const { id } = parseRequest(instancePathSchema, params, 'path');
    const { stepId } = parseRequest(stepRequestSchema, body, 'body');
    return this.operate(principal, id, { type: 'retryStep', stepId, by: principal.subject });
  }

  @Post('instances/:id/rerun-from')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Run the instance again from a step' })
  @ApiBody({ schema: openApi(stepRequestSchema) })
  @ApiResponse({ status: 409, description: 'not-applicable now' })
  rerunFrom(
    @CurrentPrincipal() principal: Principal,
    @Param() params: unknown,
    @Body() body: unknown,
  ): Promise<TransitionOutcome> {
    const { id } = parseRequest(instancePathSchema, params, 'path');
    const { stepId } = parseRequest(stepRequestSchema, body, 'body');
    return this.operate(principal, id, { type: 'rerunFrom', stepId, by: principal.subject });
  }

  /** The instance when it is the caller's tenant's; otherwise 404, so ids of others' instances stay unseen. */
  private async owned(principal: Principal, id: string): Promise<InstanceSummary & { state: unknown }> {
    const instance = await this.repositories.instances.find(this.transactions.outside, id);
    if (instance === undefined || instance.tenant !== principal.tenant)
      throw new WorkflowRuntimeError('unknown-instance', `no workflow instance '${id}'`);
    return instance;
  }

  private async operate(principal: Principal, id: string, input: WorkflowInput): Promise<TransitionOutcome> {
    // An instance's tenant never changes, so the check outside the transaction holds inside it.
    await this.owned(principal, id);
    const outcome = await this.transactions.run((manager) => this.executor.apply(manager, id, input));
    if (outcome.ignored) throw new WorkflowRuntimeError('not-applicable', outcome.ignored.message);
    return outcome;
  }
}
