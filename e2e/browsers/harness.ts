// One harness over three browser engines, for the core scenarios of e2e/browsers/: launch,
// open a page, evaluate in it, collect its problems and requests, close.
//
// - chromium: Debian's Chromium through playwright-core (as the other e2e specs).
// - firefox: Debian's Firefox ESR through puppeteer-core over WebDriver BiDi (Playwright
//   needs its own patched Firefox).
// - webkit: WebKitGTK's MiniBrowser through WebKitWebDriver and selenium-webdriver
//   (classic WebDriver), under Xvfb: it has no headless mode.
//
// Problems (console errors and warnings, uncaught errors, CSP violations) are collected
// inside the page and its worker by e2e/pages/browsers/collect.js, because classic
// WebDriver reports none; the Chromium and Firefox adapters add what their protocol
// reports. Requests: Chromium and Firefox report the page's and its workers' requests;
// WebKit reports none, so it uses the test server as its HTTP proxy and its requests are
// read from the server's own log, where a request to any other host lands too (refused).
// (The proxy log would also hold a browser's own background traffic, which is why the
// engines that can attribute requests to the page do so.)
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { Builder, type WebDriver } from 'selenium-webdriver';
import { findFirefox, findWebKit, howToPoint } from '../../scripts/lib/browsers.mjs';
import {
  CHROMIUM_ARGS,
  findChromium,
  howToPoint as howToPointChromium,
} from '../../scripts/lib/chromium.mjs';

export const ENGINES = ['chromium', 'firefox', 'webkit'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface EnginePage {
  /** Evaluates `fn(arg)` in the page (awaiting a returned promise); arg and result are JSON. */
  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  /** Waits until `fn()` returns something truthy in the page. */
  waitFor(fn: () => unknown, timeoutMs?: number): Promise<void>;
  goto(path: string): Promise<void>;
  reload(): Promise<void>;
  /** Problems collected since the page was opened, across navigations. */
  problems(): Promise<string[]>;
  /** URLs the page and its workers requested since it was opened (no data: or blob:). */
  requests(): string[];
}

export interface Engine {
  name: EngineName;
  /** Browser name and version as the browser reports them. */
  version: string;
  open(path: string): Promise<EnginePage>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Origin of the test server, e.g. http://127.0.0.1:1234. */
  origin: string;
  /**
   * The test server's log of whole URLs. An engine whose driver reports no requests
   * (WebKit) uses the server as its HTTP proxy and reads its requests from this log.
   */
  serverLog: string[];
}

// biome-ignore lint/suspicious/noExplicitAny: page globals
type W = any;

const collected = () => ((window as W).__lrProblems ?? []) as string[];

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

/** Shared by the adapters: problems of pages navigated away from, and polling. */
function pageBase(
  evaluate: EnginePage['evaluate'],
  navigate: (how: { path: string } | 'reload') => Promise<void>,
  fromProtocol: string[],
  requested: string[],
): EnginePage {
  const earlier: string[] = [];
  const keep = async () => {
    earlier.push(...(await evaluate(collected).catch(() => [] as string[])));
  };
  return {
    evaluate,
    async waitFor(fn, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (!(await evaluate(fn))) {
        if (Date.now() > until) throw new Error(`waitFor(${fn}) timed out after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async goto(path) {
      await keep();
      await navigate({ path });
    },
    async reload() {
      await keep();
      await navigate('reload');
    },
    async problems() {
      return [...earlier, ...(await evaluate(collected)), ...fromProtocol];
    },
    requests: () => requested.filter((u) => !/^(data|blob):/.test(u)),
  };
}

/** A page driven by Playwright or Puppeteer (the same three calls), opened at `path`. */
async function openDriven(
  page: {
    evaluate(fn: never, arg: never): Promise<unknown>;
    reload(): Promise<unknown>;
    goto(url: string): Promise<unknown>;
  },
  origin: string,
  path: string,
  fromProtocol: string[],
  requested: string[],
): Promise<EnginePage> {
  const base = pageBase(
    (fn, arg) => page.evaluate(fn as never, arg as never) as never,
    async (how) => {
      if (how === 'reload') await page.reload();
      else await page.goto(new URL(how.path, origin).href);
    },
    fromProtocol,
    requested,
  );
  await page.goto(new URL(path, origin).href);
  return base;
}

async function launchChromium({ origin }: LaunchOptions): Promise<Engine> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(howToPointChromium());
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const context = await browser.newContext();
  return {
    name: 'chromium',
    version: `chromium ${browser.version()}`,
    async open(path) {
      const page = await context.newPage();
      const fromProtocol: string[] = [];
      const requested: string[] = [];
      // The page's and its dedicated workers' requests (not the browser's own traffic).
      page.on('request', (request) => requested.push(request.url()));
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warning')
          fromProtocol.push(`[cdp console ${msg.type()}] ${msg.text()}`);
      });
      page.on('pageerror', (error) => fromProtocol.push(`[cdp pageerror] ${error.message}`));
      page.on('worker', (worker) =>
        worker.on('console', (msg) => {
          if (msg.type() === 'error' || msg.type() === 'warning')
            fromProtocol.push(`[cdp worker ${msg.type()}] ${msg.text()}`);
        }),
      );
      return openDriven(page, origin, path, fromProtocol, requested);
    },
    close: () => browser.close(),
  };
}

async function launchFirefox({ origin }: LaunchOptions): Promise<Engine> {
  const executablePath = findFirefox();
  if (!executablePath) throw new Error(howToPoint('firefox'));
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath, headless: true });
  const version = (await browser.version()).replace('/', ' ');
  return {
    name: 'firefox',
    version,
    async open(path) {
      const page = await browser.newPage();
      const fromProtocol: string[] = [];
      const requested: string[] = [];
      // BiDi reports the worker's requests and console through the page too.
      page.on('request', (request) => requested.push(request.url()));
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warn')
          fromProtocol.push(`[bidi console ${msg.type()}] ${msg.text()}`);
      });
      page.on('pageerror', (error) =>
        fromProtocol.push(`[bidi pageerror] ${(error as Error).message ?? error}`),
      );
      return openDriven(page, origin, path, fromProtocol, requested);
    },
    close: () => browser.close(),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts Xvfb on a display it picks itself (-displayfd) and returns ":N". */
function startXvfb(xvfb: string): Promise<{ display: string; process: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      xvfb,
      ['-displayfd', '1', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('Xvfb did not report a display within 10 s'));
    }, 10_000);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/^(\d+)\n/);
      if (match) {
        clearTimeout(timer);
        resolve({ display: `:${match[1]}`, process: child });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited with ${code} before reporting a display`));
    });
  });
}

/** Waits until WebKitWebDriver answers /status. */
async function driverReady(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/status`)).ok) return;
    } catch {}
    if (Date.now() > until)
      throw new Error(`WebKitWebDriver did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function launchWebKit({ origin, serverLog }: LaunchOptions): Promise<Engine> {
  const found = findWebKit();
  if (!found) throw new Error(howToPoint('webkit'));
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const child of children.splice(0).reverse()) child.kill();
  };
  let driver: WebDriver;
  try {
    const xvfb = await startXvfb(found.xvfb);
    children.push(xvfb.process);
    const port = await freePort();
    children.push(
      spawn(found.driver, [`--port=${port}`], {
        env: { ...process.env, DISPLAY: xvfb.display },
        stdio: 'ignore',
      }),
    );
    const server = `http://127.0.0.1:${port}`;
    await driverReady(server, 10_000);
    const proxy = new URL(origin).host;
    // Without a display the new-session request hangs with no error: always time it out.
    const building = new Builder()
      .usingServer(server)
      .withCapabilities({
        browserName: 'MiniBrowser',
        proxy: { proxyType: 'manual', httpProxy: proxy, sslProxy: proxy, noProxy: [] },
        'webkitgtk:browserOptions': { binary: found.browser, args: ['--automation'] },
      })
      .build();
    // Without a display the new-session request hangs with no error: always time it out.
    await withTimeout(building.getSession(), 30_000, 'WebKitWebDriver new session');
    driver = building;
    await driver.manage().setTimeouts({ script: 170_000, pageLoad: 60_000 });
  } catch (error) {
    stop();
    throw error;
  }
  const caps = await driver.getCapabilities();
  let opened = false;
  const evaluate: EnginePage['evaluate'] = async (fn, arg) => {
    const result = (await driver.executeAsyncScript(
      `const done = arguments[arguments.length - 1];
       Promise.resolve()
         .then(() => (${fn.toString()})(arguments[0]))
         .then((value) => done({ value }), (e) => done({ error: String((e && e.stack) || e) }));`,
      arg,
    )) as { value?: unknown; error?: string };
    if (result.error !== undefined) throw new Error(`in the page: ${result.error}`);
    return result.value as never;
  };
  return {
    name: 'webkit',
    version: `${caps.getBrowserName()} (WebKitGTK) ${caps.getBrowserVersion()}`,
    async open(path) {
      // Classic WebDriver drives one window: a second open() navigates it.
      if (opened) await driver.get('about:blank');
      opened = true;
      const requested: string[] = [];
      const from = serverLog.length;
      const base = pageBase(
        evaluate,
        async (how) => {
          if (how === 'reload') await driver.navigate().refresh();
          else await driver.get(new URL(how.path, origin).href);
        },
        [],
        requested,
      );
      // The server's log since this page opened (the window is the only page).
      base.requests = () => serverLog.slice(from).filter((u) => !/^(data|blob):/.test(u));
      await driver.get(new URL(path, origin).href);
      return base;
    },
    async close() {
      try {
        await withTimeout(driver.quit(), 10_000, 'WebKitWebDriver quit');
      } finally {
        stop();
      }
    },
  };
}

export function launchEngine(name: EngineName, options: LaunchOptions): Promise<Engine> {
  if (name === 'chromium') return launchChromium(options);
  if (name === 'firefox') return launchFirefox(options);
  return launchWebKit(options);
}
