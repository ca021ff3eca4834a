import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Param, Post, Query, UseFilters } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { WorkflowInput } from '@keel/workflow-engine';
import { type TransitionOutcome, WorkflowExecutor } from '../execution/workflow-executor';
import { DefinitionRegistry } from '../persistence/definition.registry';
import { WorkflowRuntimeError } from '../workflow-runtime.error';
import { WorkflowHttpErrorFilter } from './workflow-http-error.filter';
import {
  cancelRequestSchema,
  listQuerySchema,
  parseRequest,
  startRequestSchema,
  stepRequestSchema,
} from './workflow-requests';

interface InstanceRow {
  id: string;
  workflow_name: string;
  workflow_version: number;
  status: string;
  case_id: string;
  seq: number;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

interface HistoryEntry {
  seq: number;
  input: unknown;
  status: string;
  events: unknown[];
  appliedAt: Date;
}

function summary(row: InstanceRow) {
  return {
    instanceId: row.id,
    workflow: { name: row.workflow_name, version: row.workflow_version },
    status: row.status,
    caseId: row.case_id,
    seq: row.seq,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

/** Read endpoints for instances and their history, and the operator's commands. */
@Controller()
@UseFilters(WorkflowHttpErrorFilter)
export class WorkflowInstancesController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly executor: WorkflowExecutor,
    private readonly registry: DefinitionRegistry,
  ) {}

  @Get('workflows')
  workflows() {
    return this.registry.list();
  }

  @Get('instances')
  async list(@Query() query: unknown) {
    const { status, workflow, limit } = parseRequest(listQuerySchema, query, 'query');
    const rows = await this.dataSource.query<InstanceRow[]>(
      `SELECT * FROM "workflow"."instances"
       WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR workflow_name = $2)
       ORDER BY created_at DESC LIMIT $3`,
      [status ?? null, workflow ?? null, limit],
    );
    return rows.map(summary);
  }

  @Get('instances/:id')
  async get(@Param('id') id: string) {
    const [row] = await this.dataSource.query<Array<InstanceRow & { state: unknown }>>(
      `SELECT * FROM "workflow"."instances" WHERE id = $1`,
      [id],
    );
    if (!row) throw new WorkflowRuntimeError('unknown-instance', `no workflow instance '${id}'`);
    return { ...summary(row), state: row.state };
  }

  @Get('instances/:id/history')
  async history(@Param('id') id: string) {
    const known = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM "workflow"."instances" WHERE id = $1`,
      [id],
    );
    if (known.length === 0)
      throw new WorkflowRuntimeError('unknown-instance', `no workflow instance '${id}'`);
    return this.dataSource.query<HistoryEntry[]>(
      `SELECT seq, input, status, events, applied_at AS "appliedAt" FROM "workflow"."transitions"
       WHERE instance_id = $1 ORDER BY seq`,
      [id],
    );
  }

  @Post('instances')
  @HttpCode(201)
  start(@Body() body: unknown): Promise<TransitionOutcome> {
    const request = parseRequest(startRequestSchema, body, 'body');
    const instanceId = request.instanceId ?? randomUUID();
    return this.dataSource.transaction((manager) =>
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
    const outcome = await this.dataSource.transaction((manager) => this.executor.apply(manager, id, input));
    if (outcome.ignored) throw new WorkflowRuntimeError('not-applicable', outcome.ignored.message);
    return outcome;
  }
}
