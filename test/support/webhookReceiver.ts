import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A webhook receiver on loopback that verifies every request it gets with the
 * `standardwebhooks` library (the one a real receiver uses), against each secret it was told.
 * Faults are injected per request: a status, a hang (no answer until the sender gives up), or a
 * connection reset. Nothing leaves the machine.
 */

export type Fault = 'ok' | 'hang' | 'reset' | { status: number; delayMs?: number };

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  /** The raw body text as received. */
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
  /** Which of the receiver's secrets verify this request (by index in `secrets`). */
  verifiedBy: number[];
  /** What the receiver answered. */
  fault: Fault;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  /** Every request received, answered or not. */
  received: ReceivedWebhook[];
  /** The secrets requests are verified with; set after the endpoint is created. */
  secrets: string[];
  /** Decides each request's answer (default: 200). `n` counts this receiver's requests from 0. */
  fault: (n: number, hook: Omit<ReceivedWebhook, 'fault' | 'verifiedBy'>) => Fault;
  /** Requests answered 2xx, by webhook-id. */
  deliveredIds(): Set<string>;
  /** Requests that no secret verified. */
  unverified(): ReceivedWebhook[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(path = '/hook'): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  let count = 0;
  const receiver: WebhookReceiver = {
    url: '',
    received,
    secrets: [],
    fault: () => 'ok',
    deliveredIds: () => new Set(received.filter((r) => r.fault === 'ok' || (typeof r.fault === 'object' && r.fault.status < 300)).map((r) => r.id)),
    unverified: () => received.filter((r) => r.verifiedBy.length === 0),
    close: async () => {
      for (const res of hanging) res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = { 'webhook-id': String(req.headers['webhook-id'] ?? ''), 'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''), 'webhook-signature': String(req.headers['webhook-signature'] ?? '') };
      const verifiedBy = receiver.secrets.flatMap((secret, i) => {
        try {
          new Webhook(secret).verify(body, headers);
          return [i];
        } catch {
          return [];
        }
      });
      let json: ReceivedWebhook['json'];
      try {
        json = JSON.parse(body) as ReceivedWebhook['json'];
      } catch {
        json = { type: '<not json>', timestamp: '', data: {} };
      }
      const hook = { id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signature: headers['webhook-signature'], body, json, at: Date.now() };
      const fault = req.url === path ? receiver.fault(count++, hook) : { status: 404 };
      received.push({ ...hook, verifiedBy, fault });
      if (fault === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (fault === 'reset') {
        req.socket.destroy();
        return;
      }
      const status = fault === 'ok' ? 200 : fault.status;
      const answer = () => res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'receiver says no');
      if (fault !== 'ok' && fault.delayMs) setTimeout(answer, fault.delayMs);
      else answer();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return receiver;
}
