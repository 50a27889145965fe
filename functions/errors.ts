import type { InputError } from '../shared/util/errors.ts';

/**
 * An answer other than 2xx that the API gives on purpose (bad input, unknown id, missing sign-in):
 * rendered as `{"error": {"message", "field"?, ...extra}}` with its status. Anything else thrown by a
 * handler is a bug and becomes a logged 500.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly field: string | undefined;
  readonly extra: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;
  /** An expected 5xx (load shed on purpose): not worth a warning per request. */
  readonly quiet: boolean;

  constructor(
    status: number,
    message: string,
    options: {
      field?: string;
      extra?: Record<string, unknown>;
      headers?: Record<string, string>;
      quiet?: boolean;
    } = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.field = options.field;
    this.extra = options.extra;
    this.headers = options.headers;
    this.quiet = options.quiet ?? false;
  }
}

export function badRequest(message: string, field?: string): HttpError {
  return new HttpError(400, message, { field });
}

export function notFound(message: string, field?: string, extra?: Record<string, unknown>): HttpError {
  return new HttpError(404, message, { field, extra });
}

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: { message: string; field?: string; [key: string]: unknown };
}

export function errorBody(message: string, field?: string, extra?: Record<string, unknown>): ErrorBody {
  return { error: { message, ...(field !== undefined ? { field } : {}), ...extra } };
}

/** InputError (thrown by the serving engine or the stores for bad arguments) → 400 naming its field. */
export function fromInputError(e: InputError): HttpError {
  return new HttpError(400, e.message, { field: e.field });
}
