import { ContractViolationError } from '@keel/contracts';
import { WorkflowEngineError } from '@keel/workflow-engine';
import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { type WorkflowRuntimeErrorCode, WorkflowRuntimeError } from '../workflow-runtime.error';

/** The part of the platform's response object this filter uses. */
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
}

function statusOf(code: WorkflowRuntimeErrorCode): number {
  switch (code) {
    case 'unknown-workflow':
    case 'unknown-version':
    case 'unknown-instance':
      return 404;
    case 'definition-conflict':
    case 'not-applicable':
      return 409;
    case 'invalid-request':
      return 400;
  }
}

/** The one place workflow errors become HTTP answers: a status and a reason, never a stack. */
@Catch(WorkflowRuntimeError, WorkflowEngineError, ContractViolationError)
export class WorkflowHttpErrorFilter implements ExceptionFilter {
  catch(
    error: WorkflowRuntimeError | WorkflowEngineError | ContractViolationError,
    host: ArgumentsHost,
  ): void {
    const response = host.switchToHttp().getResponse<JsonResponse>();
    if (error instanceof WorkflowRuntimeError) {
      response.status(statusOf(error.code)).json({ error: error.code, message: error.message });
    } else if (error instanceof ContractViolationError) {
      response
        .status(400)
        .json({ error: 'invalid-request', message: error.message, violations: error.violations });
    } else {
      response.status(400).json({ error: error.code, message: error.message });
    }
  }
}
