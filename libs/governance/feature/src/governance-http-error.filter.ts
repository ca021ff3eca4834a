import { KeelError } from '@keel/errors';
import { type ArgumentsHost, Catch, HttpException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';

interface JsonResponse {
  status(code: number): { json(body: unknown): void };
  setHeader(name: string, value: string): void;
}

/** Codes for what Nest refuses before a handler runs, in the style of the catalog's. */
const platformCodes: Readonly<Record<number, string>> = {
  400: 'invalid-request',
  404: 'not-found',
  413: 'body-too-large',
  429: 'rate-limited',
};

/**
 * The one place governance's errors become HTTP answers: a `KeelError` (`GovernanceError`, the access lib's
 * `AccessError`) answers with its catalog's status and `{ error: code, message, ...details }`, never a stack;
 * a 503 says when to retry; what Nest refused (rate limit, unknown route, bad JSON) gets a code of the same style.
 */
@Catch()
export class GovernanceHttpErrorFilter extends BaseExceptionFilter {
  override catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<JsonResponse>();
    if (error instanceof KeelError) {
      if (error.httpStatus === 503) response.setHeader('Retry-After', '5');
      const details =
        typeof error.details === 'object' && error.details !== null
          ? (error.details as Record<string, unknown>)
          : {};
      const code: string = (error as KeelError<string>).code;
      response.status(error.httpStatus).json({ error: code, message: error.message, ...details });
      return;
    }
    const status = error instanceof HttpException ? error.getStatus() : undefined;
    const code = status === undefined ? undefined : platformCodes[status];
    if (status === undefined || code === undefined) return super.catch(error, host);
    response.status(status).json({ error: code, message: (error as Error).message });
  }
}
