import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookSender, type Resolver } from '../../src/services/webhooks/webhookSender.js';

// One attempt's HTTP rules against a real loopback server: names resolved through an injected
// resolver (no real DNS, nothing leaves the machine), every answer checked, the checked address
// connected to, no redirects, a capped body, one deadline.

describe('webhook sender', () => {
  let server: Server;
  let port: number;
  const seen: { path: string; host: string | undefined }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ path: req.url ?? '', host: req.headers.host });
      req.resume();
      if (req.url === '/redirect') res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` }).end();
      else if (req.url === '/big') {
        res.writeHead(200);
        // 8 MB the sender must not wait for.
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let sent = 0;
        const pump = () => {
          while (sent < 128 && res.write(chunk)) sent++;
          if (sent < 128) res.once('drain', pump);
          else res.end();
        };
        pump();
      } else if (req.url === '/hang') {
        /* never answers */
      } else res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const fixed = (answers: Record<string, string[][]>): Resolver & { calls: string[] } => {
    const calls: string[] = [];
    const resolver = async (host: string) => {
      calls.push(host);
      const queue = answers[host];
      if (!queue || queue.length === 0) throw new Error(`ENOTFOUND ${host}`);
      return queue.length > 1 ? (queue.shift() as string[]) : (queue[0] as string[]);
    };
    return Object.assign(resolver, { calls });
  };

  it('connects to the address it checked, with the URL’s host in the Host header', async () => {
    const resolver = fixed({ 'receiver.test': [['127.0.0.1']] });
    const sender = new WebhookSender({ policy: { allowLoopback: true }, resolver });
    const result = await sender.send(`http://receiver.test:${port}/ok`, '{}', {}, 2000);
    expect(result).toMatchObject({ ok: true, statusCode: 204, error: null });
    expect(seen.at(-1)).toEqual({ path: '/ok', host: `receiver.test:${port}` });
    sender.close();
  });

  it('refuses a name resolving to a disallowed address, or to any disallowed one among several, without connecting', async () => {
    const before = seen.length;
    const sender = new WebhookSender({ policy: { allowLoopback: false }, resolver: fixed({ 'loop.test': [['127.0.0.1']], 'mixed.test': [['93.184.216.34', '10.0.0.5']], 'meta.test': [['169.254.169.254']] }) });
    expect((await sender.send(`http://loop.test:${port}/x`, '{}', {}, 2000)).error).toBe('refused: loop.test resolves to a loopback address');
    expect((await sender.send(`http://mixed.test:${port}/x`, '{}', {}, 2000)).error).toBe('refused: mixed.test resolves to a private address');
    expect((await sender.send(`http://meta.test:${port}/x`, '{}', {}, 2000)).error).toBe('refused: meta.test resolves to a metadata address');
    expect((await sender.send(`http://127.0.0.1:${port}/x`, '{}', {}, 2000)).error).toBe('refused: 127.0.0.1 resolves to a loopback address');
    expect((await sender.send(`http://nowhere.test:${port}/x`, '{}', {}, 2000)).error).toMatch(/^resolution failed: ENOTFOUND/);
    expect(seen.length).toBe(before);
    sender.close();
  });

  it('checks again at each attempt: a name that rebinds to a private address is refused', async () => {
    const resolver = fixed({ 'rebind.test': [['127.0.0.1'], ['10.0.0.9']] });
    const sender = new WebhookSender({ policy: { allowLoopback: true }, resolver });
    expect((await sender.send(`http://rebind.test:${port}/first`, '{}', {}, 2000)).ok).toBe(true);
    const second = await sender.send(`http://rebind.test:${port}/second`, '{}', {}, 2000);
    expect(second).toMatchObject({ ok: false, statusCode: null, error: 'refused: rebind.test resolves to a private address' });
    expect(resolver.calls).toEqual(['rebind.test', 'rebind.test']);
    expect(seen.some((s) => s.path === '/second')).toBe(false);
    sender.close();
  });

  it('does not follow redirects, reads a capped body, and gives up at the deadline', async () => {
    const sender = new WebhookSender({ policy: { allowLoopback: true } });
    const redirect = await sender.send(`http://127.0.0.1:${port}/redirect`, '{}', {}, 2000);
    expect(redirect).toMatchObject({ ok: false, statusCode: 302 });
    expect(redirect.error).toMatch(/redirects are not followed/);
    expect(seen.some((s) => s.path === '/elsewhere')).toBe(false);
    const big = await sender.send(`http://127.0.0.1:${port}/big`, '{}', {}, 5000);
    expect(big).toMatchObject({ ok: true, statusCode: 200 });
    const hang = await sender.send(`http://127.0.0.1:${port}/hang`, '{}', {}, 300);
    expect(hang).toMatchObject({ ok: false, statusCode: null, error: 'timed out after 300 ms' });
    expect(hang.ms).toBeLessThan(1500);
    sender.close();
  });
});
