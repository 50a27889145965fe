/**
 * The one rule for "this storage failure may pass; try again later" (HTTP 503 with Retry-After,
 * model versions retried soon) versus everything else (a bug, a bad version). Used by the HTTP
 * error mapping and the model provider.
 */

/** Socket-level failures: the service is down, restarting or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'REQUEST_SEND_ERROR', // @azure/core-rest-pipeline's wrapper of the above
]);

/** Statuses Cosmos and Blob use for "not now": timeout, gone (partition moved), throttled, unavailable. */
const TRANSIENT_STATUS = new Set([408, 410, 429, 449, 502, 503, 504]);

/** Timeouts: the Cosmos SDK's TimeoutError, an aborted call (our deadlines), AbortSignal.timeout's reason. */
const TIMEOUT_NAMES = new Set(['TimeoutError', 'AbortError']);

export function isTransient(e: unknown, depth = 0): boolean {
  if (e === null || typeof e !== 'object' || depth > 3) return false;
  const err = e as { name?: unknown; code?: unknown; statusCode?: unknown; cause?: unknown };
  if (typeof err.name === 'string' && TIMEOUT_NAMES.has(err.name)) return true;
  if (err.code === 'TimeoutError') return true;
  for (const status of [err.code, err.statusCode])
    if (typeof status === 'number' && TRANSIENT_STATUS.has(status)) return true;
  if (typeof err.code === 'string' && (NETWORK_CODES.has(err.code) || err.code.startsWith('UND_ERR_')))
    return true;
  return isTransient(err.cause, depth + 1);
}
