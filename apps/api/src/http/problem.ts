import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';

/**
 * Every error the API returns is an RFC 9457 problem document with a stable machine-readable `code`
 * and a `detail` sentence a person can act on. Thrown from anywhere; rendered here, in one place.
 */
export class Problem extends HttpException {
  constructor(
    status: number,
    readonly code: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail, status);
  }
}

const titles: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable events',
  429: 'Too many requests',
  503: 'Service unavailable',
};

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly log = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    let status = HttpStatus.INTERNAL_SERVER_ERROR;
    let code = 'internal_error';
    let detail = 'an unexpected error occurred; it has been logged';
    let extra: Record<string, unknown> = {};
    let headers: Record<string, string> = {};
    if (exception instanceof Problem) {
      ({ code, detail, extra, headers } = exception);
      status = exception.getStatus();
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      code = status === 404 ? 'not_found' : `http_${status}`;
      detail = typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? exception.message);
    } else {
      this.log.error(exception instanceof Error ? exception.stack : String(exception));
    }
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res
      .status(status)
      .type('application/problem+json')
      .send(JSON.stringify({ type: `https://pulse.dev/problems/${code}`, title: titles[status] ?? 'Error', status, code, detail, ...extra }));
  }
}
