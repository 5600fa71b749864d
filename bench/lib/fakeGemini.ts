import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// A minimal stand-in for Gemini's REST endpoint on loopback, for the LLM-path case: every
// POST /v1beta/models/{model}:generateContent answers the same good plan after a fixed delay.
// (test/support/fakeGemini.ts is the scriptable one the tests use; the bench needs only this.)

export interface BenchFakeGemini {
  baseUrl: string;
  /** Requests answered so far. */
  answered(): number;
  close(): Promise<void>;
}

const PLAN = {
  objective: 'Secure the renewal before the renewal date',
  steps: [
    { action_type: 'REQUEST_RENEWAL_MEETING', depends_on: [], rationale: 'Renewal is close and usage dropped' },
    { action_type: 'PREP_RENEWAL_BRIEF', depends_on: [0], rationale: 'Brief the account team before the meeting' },
    { action_type: 'ESCALATE_SUPPORT_RISK', depends_on: [], rationale: 'Open escalations' },
  ],
};

const ANSWER = JSON.stringify({
  candidates: [{ content: { role: 'model', parts: [{ text: JSON.stringify(PLAN) }] }, finishReason: 'STOP', index: 0 }],
});

export const GENERATE_PATH = /^\/v1(beta)?\/models\/[^/:]+:generateContent$/;

export async function startBenchFakeGemini(delayMs: number): Promise<BenchFakeGemini> {
  let answered = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method !== 'POST' || !GENERATE_PATH.test((req.url ?? '').split('?')[0] ?? '')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":{"code":404,"message":"not found","status":"NOT_FOUND"}}');
        return;
      }
      setTimeout(() => {
        answered += 1;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(ANSWER);
      }, delayMs);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    answered: () => answered,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
