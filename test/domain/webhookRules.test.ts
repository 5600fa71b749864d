import { describe, expect, it } from '@jest/globals';
import { classifyAddress, isAllowedAddress, urlProblem } from '../../src/domain/webhookAddress.js';
import { parseEventTypes, takesEvent } from '../../src/domain/webhookEvent.js';
import { nextAttemptAt, retryDelayMs } from '../../src/domain/webhookRetry.js';

describe('webhook address classifier', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.9.9.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'multicast'],
    ['192.0.2.1', 'reserved'],
    ['64:ff9b::7f00:1', 'reserved'],
    ['2002:7f00:1::', 'reserved'],
    ['not-an-ip', 'invalid'],
  ])('%s is %s', (ip, kind) => {
    expect(classifyAddress(ip)).toBe(kind);
  });

  it('allows only public addresses, and loopback only when told', () => {
    expect(isAllowedAddress('8.8.8.8', { allowLoopback: false })).toBe(true);
    expect(isAllowedAddress('127.0.0.1', { allowLoopback: false })).toBe(false);
    expect(isAllowedAddress('127.0.0.1', { allowLoopback: true })).toBe(true);
    for (const ip of ['10.0.0.1', '169.254.169.254', '::', 'fe80::1']) expect(isAllowedAddress(ip, { allowLoopback: true })).toBe(false);
  });

  it('checks a URL for form: scheme, https in production, credentials, literal addresses, localhost', () => {
    const prod = { requireHttps: true, allowLoopback: false };
    const dev = { requireHttps: false, allowLoopback: true };
    expect(urlProblem('https://hooks.example.com/x', prod)).toBeNull();
    expect(urlProblem('http://hooks.example.com/x', prod)).toBe('must use https');
    expect(urlProblem('ftp://hooks.example.com/x', prod)).toBe('must be http(s)');
    expect(urlProblem('nope', prod)).toBe('is not a URL');
    expect(urlProblem('https://u:p@hooks.example.com/', prod)).toBe('must not carry credentials');
    expect(urlProblem('https://10.0.0.1/', prod)).toBe('points to a private address');
    expect(urlProblem('https://[::1]/', prod)).toBe('points to a loopback address');
    expect(urlProblem('https://localhost/', prod)).toBe('points to a loopback address');
    expect(urlProblem('https://169.254.169.254/', prod)).toBe('points to a metadata address');
    expect(urlProblem('http://127.0.0.1:8080/x', dev)).toBeNull();
    expect(urlProblem('http://10.0.0.1/', dev)).toBe('points to a private address');
    expect(urlProblem('http://localhost:8080/x', dev)).toBeNull();
    expect(urlProblem('http://[::1]:8080/x', dev)).toBeNull();
    expect(urlProblem('https://hooks.example.com/x#frag', prod)).toBe('must not have a fragment');
    expect(urlProblem(`https://hooks.example.com/${'a'.repeat(2100)}`, prod)).toBe('is too long (2048 characters at most)');
  });
});

describe('webhook retry schedule', () => {
  const policy = { baseMs: 1000, maxDelayMs: 60_000, retryForMs: 3 * 86_400_000 };

  it('doubles the wait per attempt, half of it jittered, capped', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, policy, 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, policy, 0.999999))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(30, policy, 0.5)).toBe(45_000);
    expect(retryDelayMs(1000, policy, 1)).toBe(60_000);
  });

  it('stops at the end of the retry period (the last attempt at its end), then gives up', () => {
    const queued = new Date('2026-01-01T00:00:00Z');
    const end = queued.getTime() + policy.retryForMs;
    expect(nextAttemptAt(3, queued, new Date(queued.getTime() + 1000), policy, 0)?.getTime()).toBe(queued.getTime() + 1000 + 2000);
    expect(nextAttemptAt(40, queued, new Date(end - 10), policy, 1)?.getTime()).toBe(end);
    expect(nextAttemptAt(41, queued, new Date(end), policy, 0)).toBeNull();
  });
});

describe('webhook event types', () => {
  it('takes all for none, refuses unknown names, deduplicates', () => {
    expect(parseEventTypes(undefined)).toEqual({ ok: true, types: [] });
    expect(parseEventTypes([])).toEqual({ ok: true, types: [] });
    expect(parseEventTypes(['PLAN_APPROVED', 'PLAN_APPROVED'])).toEqual({ ok: true, types: ['PLAN_APPROVED'] });
    expect(parseEventTypes(['PLAN_APPROVED', 'plan_created', 'X'])).toEqual({ ok: false, unknown: ['plan_created', 'X'] });
    expect(takesEvent([], 'PLAN_CREATED')).toBe(true);
    expect(takesEvent(['PLAN_APPROVED'], 'PLAN_CREATED')).toBe(false);
  });
});
