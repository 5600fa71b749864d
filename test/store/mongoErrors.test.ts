import { describe, expect, it, jest } from '@jest/globals';
import { AppError } from '../../src/domain/errors.js';
import { consoleStoreLogger, describeStoreError, isDuplicateKeyError, withStoreErrors } from '../../src/store/mongoErrors.js';
import { memoryLogger } from './storeFixtures.js';

describe('isDuplicateKeyError', () => {
  it('knows MongoDB and FerretDB duplicate keys, and nothing else', () => {
    expect(isDuplicateKeyError({ code: 11000, message: 'E11000 duplicate key error collection: d.plans index: x dup key' })).toBe(true);
    expect(isDuplicateKeyError({ code: 11001 })).toBe(true);
    expect(isDuplicateKeyError({ code: 1, message: "constraint failed: UNIQUE constraint failed: index 'plans_x_plans_tenant_active_slot' (2067)" })).toBe(true);
    expect(isDuplicateKeyError({ errmsg: 'E11000 duplicate key error' })).toBe(true);
    expect(isDuplicateKeyError({ code: 2, message: 'invalid key' })).toBe(false);
    expect(isDuplicateKeyError(new Error('connection closed'))).toBe(false);
    expect(isDuplicateKeyError(null)).toBe(false);
    expect(isDuplicateKeyError('E11000')).toBe(false);
  });
});

describe('withStoreErrors', () => {
  it('passes results and AppErrors through, and turns anything else into a logged INTERNAL_SERVER_ERROR', async () => {
    const logger = memoryLogger();
    expect(await withStoreErrors(logger, 'op', async () => 7)).toBe(7);
    const appError = new AppError('CONFLICT', 'lost');
    await expect(withStoreErrors(logger, 'op', async () => Promise.reject(appError))).rejects.toBe(appError);
    const driverError = Object.assign(new Error('connection 3 to 127.0.0.1:1 closed'), { name: 'MongoNetworkError', code: undefined });
    const wrapped = withStoreErrors(logger, 'plans.get', async () => Promise.reject(driverError));
    await expect(wrapped).rejects.toMatchObject({ code: 'INTERNAL_SERVER_ERROR', message: 'store operation plans.get failed', cause: driverError });
    await expect(wrapped).rejects.not.toMatchObject({ message: expect.stringMatching(/127\.0\.0\.1/) });
    expect(logger.lines).toEqual([{ level: 'error', msg: 'store operation failed', obj: { op: 'plans.get', err: { name: 'MongoNetworkError', code: undefined, message: 'connection 3 to 127.0.0.1:1 closed' } } }]);
  });

  it('describes odd throwables too', () => {
    expect(describeStoreError('boom')).toEqual({ error: 'boom' });
    expect(describeStoreError({ code: 5, errmsg: 'x'.repeat(600) })).toMatchObject({ code: 5, message: 'x'.repeat(500) });
  });

  it('the console logger writes to the console', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    consoleStoreLogger.warn({ a: 1 }, 'w');
    consoleStoreLogger.error({ b: 2 }, 'e');
    expect(warn).toHaveBeenCalledWith('w', { a: 1 });
    expect(error).toHaveBeenCalledWith('e', { b: 2 });
    warn.mockRestore();
    error.mockRestore();
  });
});
