import { describe, expect, it } from 'vitest';
import { readSettings } from '../../shared/store/config.ts';
import { isTransient } from '../../shared/store/transient.ts';

const err = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

describe('isTransient (the one rule for "storage may pass")', () => {
  it('says yes to timeouts, aborts, throttling, unavailability and socket failures, also when wrapped', () => {
    for (const e of [
      err('Timeout Error! Request took more than 5000 ms', { name: 'TimeoutError', code: 'TimeoutError' }),
      err('The operation was aborted.', { name: 'AbortError' }),
      err('Request rate is large', { code: 429 }),
      err('Service Unavailable', { statusCode: 503 }),
      err('gateway timeout', { statusCode: 504 }),
      err('connect ECONNREFUSED 127.0.0.1:8081', { code: 'ECONNREFUSED' }),
      err('socket hang up', { code: 'ECONNRESET' }),
      err('send failed', { name: 'RestError', code: 'REQUEST_SEND_ERROR' }),
      err('fetch failed', { cause: err('other side closed', { code: 'UND_ERR_SOCKET' }) }),
    ])
      expect(isTransient(e), e.message).toBe(true);
  });

  it('says no to bugs, missing things, refusals and bad versions', () => {
    for (const e of [
      new RangeError('a real bug'),
      err('not found', { statusCode: 404 }),
      err('forbidden', { code: 403 }),
      err('precondition failed', { code: 412 }),
      err('model version B: tensors.bin does not match its sha256', { name: 'RegistryError' }),
      null,
      'a string',
    ])
      expect(isTransient(e), String(e)).toBe(false);
  });
});

describe('storage deadlines (settings)', () => {
  it('default to 5 s for Cosmos and 30 s per Blob try, and refuse non-positive values naming the setting', () => {
    expect(readSettings({})).toMatchObject({ cosmosTimeoutMs: 5000, blobTimeoutMs: 30_000 });
    expect(readSettings({ COSMOS_TIMEOUT_MS: '1500', BLOB_TIMEOUT_MS: '8000' })).toMatchObject({
      cosmosTimeoutMs: 1500,
      blobTimeoutMs: 8000,
    });
    for (const [name, value] of [
      ['COSMOS_TIMEOUT_MS', '0'],
      ['COSMOS_TIMEOUT_MS', 'soon'],
      ['BLOB_TIMEOUT_MS', '-1'],
    ])
      expect(() => readSettings({ [name]: value }), `${name}=${value}`).toThrow(name);
  });
});
