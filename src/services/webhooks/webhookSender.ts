import { lookup } from 'node:dns/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { classifyAddress, isAllowedAddress, type AddressPolicy } from '../../domain/webhookAddress.js';

// One HTTP attempt of a webhook. The receiver's name is resolved here and every address it
// resolves to is checked (docs/webhooks.md, "Where a webhook may go"); the request then
// connects to the checked address itself, so a second resolution cannot send it elsewhere
// (DNS rebinding). TLS still verifies the certificate against the URL's name. Redirects are
// not followed (a 3xx is a failed attempt), the response body is read up to a small cap, and
// the whole attempt has one deadline.

/** Resolves a host name to its IP addresses (injected in tests; the system resolver otherwise). */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  /** Why the attempt failed (no receiver text beyond a short excerpt). */
  error: string | null;
  ms: number;
}

/** The most of a response body that is read (then the connection is dropped). */
const RESPONSE_BODY_CAP = 4096;
const USER_AGENT = 'renewal-defense-webhooks/1';

export class AddressRefused extends Error {}

export interface SenderOptions {
  resolver?: Resolver;
  policy: AddressPolicy;
}

export class WebhookSender {
  private readonly resolver: Resolver;
  // Keep-alive to checked addresses only: an agent's sockets are keyed by the address (and the
  // TLS server name), never by the name, so a reused socket goes where a check allowed.
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });

  constructor(private readonly options: SenderOptions) {
    this.resolver = options.resolver ?? systemResolver;
  }

  /** The addresses `hostname` may be reached at; AddressRefused when any of them is not allowed. */
  async checkedAddresses(hostname: string): Promise<string[]> {
    const host = hostname.replace(/^\[|\]$/g, '');
    const addresses = isIP(host) ? [host] : await this.resolver(host);
    if (addresses.length === 0) throw new AddressRefused(`${host} resolves to no address`);
    // Every answer is checked, not just the one used: a name mixing public and private answers is refused.
    const refused = addresses.find((a) => !isAllowedAddress(a, this.options.policy));
    if (refused !== undefined) throw new AddressRefused(`${host} resolves to a ${classifyAddress(refused)} address`);
    return addresses;
  }

  async send(rawUrl: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<AttemptResult> {
    const started = performance.now();
    const done = (ok: boolean, statusCode: number | null, error: string | null): AttemptResult => ({ ok, statusCode, error, ms: performance.now() - started });
    const url = new URL(rawUrl);
    let address: string;
    try {
      [address] = (await this.checkedAddresses(url.hostname)) as [string];
    } catch (e) {
      return done(false, null, e instanceof AddressRefused ? `refused: ${e.message}` : `resolution failed: ${(e as Error).message}`);
    }
    const secure = url.protocol === 'https:';
    const name = url.hostname.replace(/^\[|\]$/g, '');
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const finish = (r: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = (secure ? httpsRequest : httpRequest)({
        host: address,
        family: isIP(address),
        port: url.port || (secure ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        agent: secure ? this.httpsAgent : this.httpAgent,
        ...(secure && !isIP(name) ? { servername: name } : {}),
        headers: {
          host: url.host,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': USER_AGENT,
          ...headers,
        },
      });
      const timer = setTimeout(() => {
        req.destroy();
        finish(done(false, null, `timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => finish(done(false, null, `${e.code ?? 'error'}: ${e.message}`.slice(0, 300))));
      req.on('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        const excerpt: Buffer[] = [];
        const end = () => {
          const ok = status >= 200 && status < 300;
          const text = Buffer.concat(excerpt).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
          finish(done(ok, status, ok ? null : `HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}${text ? `: ${text}` : ''}`));
        };
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read <= RESPONSE_BODY_CAP) excerpt.push(chunk);
          else {
            // Enough: the status is known; the rest of a large body is not worth a connection's time.
            res.destroy();
            end();
          }
        });
        res.on('end', end);
        res.on('error', end);
        res.on('close', end);
      });
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
