import { type RetrievalErrorCode, RetrievalError } from '@keel/retrieval-domain';
import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';

interface JsonResponse {
  status(code: number): { json(body: unknown): void };
}

function statusOf(code: RetrievalErrorCode): number {
  switch (code) {
    case 'invalid-request':
      return 400;
    case 'version-conflict':
      return 409;
    case 'embedding-malformed':
      return 502;
    case 'embedder-unavailable':
    case 'vector-store-unavailable':
      return 503;
  }
}

/** The one place retrieval errors become HTTP answers: a status and a code, never a stack. */
@Catch(RetrievalError)
export class RetrievalHttpErrorFilter implements ExceptionFilter {
  catch(error: RetrievalError, host: ArgumentsHost): void {
    host
      .switchToHttp()
      .getResponse<JsonResponse>()
      .status(statusOf(error.code))
      .json({ error: error.code, message: error.message });
  }
}
