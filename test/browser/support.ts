// What the browser tests share: the embedded store (or MONGODB_URI) and the real service on
// 127.0.0.1, Debian chromium through playwright-core with every request not to 127.0.0.1
// aborted and recorded, named steps, and the frame of a run (watchdog, bounded cleanup, the
// pass/fail line and the exit code). Not part of jest: each *.browser.ts runs under tsx.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator } from 'playwright-core';
import { loadConfig } from '../../src/config/env.js';
import { findProjectRoot } from '../../src/config/projectRoot.js';
import { createLogger } from '../../src/observability/logger.js';
import { startService, type RunningService } from '../../src/server/runtime.js';
import { startEmbeddedStore, type EmbeddedStore } from '../../src/store/embeddedStore.js';

export const ROOT = findProjectRoot();
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function assertEqual<T>(actual: T, expected: T, what: string): void {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`${what}: expected ${b}, got ${a}`);
}

/** Polls `read` until it gives `expected`, for at most `timeoutMs` (a failed read counts as null). */
export async function expectWithin<T>(read: () => Promise<T>, expected: T, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: T | null = null;
  while (Date.now() < deadline) {
    last = await read().catch(() => null);
    if (last === expected) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: expected ${String(expected)}, got ${String(last)}`);
}

/** A GraphQL call to the service as a client makes it; throws on errors. */
export async function graphqlCall<T>(baseUrl: string, query: string, variables: Record<string, unknown>, bearer: string, timeoutMs: number): Promise<T> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new Error(`API call failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Polls a locator's text (white space folded) until it contains `expected`, for at most `timeoutMs`. */
export async function expectTextWithin(locator: Locator, expected: string | RegExp, what: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = ((await locator.first().textContent({ timeout: 1000 }).catch(() => null)) ?? '').replace(/\s+/g, ' ').trim();
    if (typeof expected === 'string' ? last.includes(expected) : expected.test(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: expected text ${String(expected)}, last saw ${JSON.stringify(last.slice(0, 300))}`);
}

/** Empties the run's screenshot folder (no stale FAILED-* shots) and checks chromium and the built page are there. */
export async function prepareRun(artifacts: string, page: 'dashboard' | 'ide'): Promise<void> {
  await rm(artifacts, { recursive: true, force: true });
  await mkdir(artifacts, { recursive: true });
  assert(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  assert(existsSync(resolve(ROOT, page, 'dist', 'index.html')), `${page}/dist is missing: run npm run ${page}:build`);
}

export interface RigOptions {
  /** Names the store's temporary folder. */
  name: string;
  dbName: string;
  secret: string;
  /** More of the service's environment (on top of development mode on 127.0.0.1, silent logs). */
  env?: Record<string, string>;
}

/** The store, service and browser of one run; stop() ends whichever of them were started. */
export class BrowserTestRig {
  private store: EmbeddedStore | null = null;
  private storeDir: string | null = null;
  service: RunningService | null = null;
  private browser: Browser | null = null;
  /** Every request a page tried outside 127.0.0.1 (each was aborted). */
  readonly blocked: string[] = [];

  constructor(private readonly options: RigOptions) {}

  get mongoUri(): string {
    return process.env['MONGODB_URI'] ?? this.store?.uri ?? '';
  }

  /** The embedded store in a temporary folder, unless MONGODB_URI names a server. */
  async startStore(): Promise<void> {
    if (process.env['MONGODB_URI']) return;
    this.storeDir = await mkdtemp(join(tmpdir(), `${this.options.name}-browser-`));
    this.store = await withTimeout(startEmbeddedStore({ dataDir: this.storeDir }), 120_000, 'starting the embedded store');
  }

  /** The real service in development mode on 127.0.0.1: a free port unless `port` is given. */
  async startService(port = 0, timeoutMs = 60_000): Promise<RunningService> {
    const config = loadConfig({
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'silent',
      MONGODB_URI: this.mongoUri,
      MONGODB_DB: this.options.dbName,
      JWT_SECRET: this.options.secret,
      ...this.options.env,
    });
    this.service = await withTimeout(startService(config, createLogger(config.LOG_LEVEL)), timeoutMs, port === 0 ? 'starting the service' : 'restarting the service');
    return this.service;
  }

  async stopService(): Promise<void> {
    await this.service?.stop();
    this.service = null;
  }

  async launchBrowser(): Promise<Browser> {
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    return this.browser;
  }

  /** A browser context offline but for this machine: anything not to 127.0.0.1 is aborted and recorded in `blocked`. */
  async newContext(viewport: { width: number; height: number }): Promise<BrowserContext> {
    assert(this.browser, 'launchBrowser() first');
    const options: BrowserContextOptions = { viewport, colorScheme: 'light', timezoneId: 'UTC', locale: 'en-GB' };
    const context = await this.browser.newContext(options);
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') await route.continue();
      else {
        this.blocked.push(url.href);
        await route.abort('internetdisconnected');
      }
    });
    return context;
  }

  async stop(): Promise<void> {
    await this.browser?.close().catch(() => undefined);
    await this.service?.stop().catch(() => undefined);
    await this.store?.stop().catch(() => undefined);
    if (this.storeDir) await rm(this.storeDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

export interface Tally {
  passed: number;
  failed: number;
}

/** Named checks, each bounded by `timeoutMs`: a failure is logged (with `onFailure`, e.g. a screenshot) and the run goes on. */
export class Steps {
  private passed = 0;
  private failed = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly onFailure: (failureNumber: number) => Promise<void> = async () => undefined,
  ) {}

  /** Runs one check (an arrow, so that `const { step } = steps` works). */
  readonly step = async (name: string, fn: () => Promise<void>): Promise<void> => {
    const started = Date.now();
    try {
      await withTimeout(fn(), this.timeoutMs, name);
      this.passed += 1;
      log(`  ok   ${name} (${Date.now() - started} ms)`);
    } catch (e) {
      this.failed += 1;
      log(`  FAIL ${name}\n       ${e instanceof Error ? e.message.split('\n').slice(0, 6).join('\n       ') : String(e)}`);
      await this.onFailure(this.passed + this.failed).catch(() => undefined);
    }
  };

  tally(): Tally {
    return { passed: this.passed, failed: this.failed };
  }
}

export interface BrowserRun {
  /** Starts every line of the summary, e.g. "IDE browser test". */
  label: string;
  artifacts: string;
  watchdogMs: number;
  run: () => Promise<void>;
  tally: () => Tally;
  cleanup: () => Promise<void>;
}

/**
 * Runs one browser test to its end and exits: 0 only when something passed and nothing failed,
 * 1 otherwise, 2 when the watchdog fires. An error out of `run` (the setup) counts as a failure.
 */
export async function runBrowserTest(test: BrowserRun): Promise<never> {
  const summary = (extraFailures: number) => {
    const { passed, failed } = test.tally();
    return { passed, failed: failed + extraFailures };
  };
  const watchdog = setTimeout(() => {
    const { passed, failed } = summary(1);
    log(`${test.label}: watchdog fired after ${test.watchdogMs / 1000} s`);
    log(`${test.label}: ${passed} passed, ${failed} failed`);
    process.exit(2);
  }, test.watchdogMs);

  let setupFailed = false;
  try {
    await test.run();
  } catch (e) {
    setupFailed = true;
    log(`  FAIL setup: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await withTimeout(test.cleanup(), 30_000, 'cleanup').catch((e: unknown) => log(`cleanup: ${String(e)}`));
    clearTimeout(watchdog);
  }

  const { passed, failed } = summary(setupFailed ? 1 : 0);
  log(`screenshots: ${test.artifacts}`);
  log(`${test.label}: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}
