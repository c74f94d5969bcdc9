import { AppError, BusyError, DatabaseUnavailableError } from '../errors';
import { isConnectionError, isRetryableLockError } from '../db/errors';

/** An RFC 9457 problem document as this API sends it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: readonly object[];
  request_id: string;
}

export const PROBLEM_TYPE_BASE = 'https://errors.shop.example/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * The one mapping from any thrown value to a domain error. Driver failures become 503s; anything
 * unexpected becomes a bare 500 so no SQL, stack or driver message reaches the client.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isRetryableLockError(err)) return new BusyError(err);
  if (isConnectionError(err)) return new DatabaseUnavailableError(err);
  return new AppError('internal_error', 'An unexpected error occurred', { cause: err });
}

export function problemOf(error: AppError, requestId: string): Problem {
  return {
    type: PROBLEM_TYPE_BASE + error.code.replaceAll('_', '-'),
    title: error.title,
    status: error.status,
    detail: error.status >= 500 && error.code === 'internal_error' ? 'An unexpected error occurred' : error.message,
    code: error.code,
    ...(error.errors ? { errors: error.errors } : {}),
    request_id: requestId,
  };
}
