// Shared helpers for the browser tests: Debian's Chromium via playwright-core, axe-core
// injected under the app's real CSP, login per demo role, screenshots.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
export const BASE = process.env.TRELLIS_BASE_URL ?? 'http://127.0.0.1:18181';
export const PASSWORD = 'trellis-demo-2026';
export const NEUTRAL = 'https://www.weather.gov/';
const SHOTS = process.env.SCREENSHOT_DIR ?? '';
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** A fresh context and page that fail the test on CSP violations and page errors. */
export async function newPage(browser, { lang = 'en-US' } = {}) {
  const context = await browser.newContext({ locale: lang, viewport: { width: 1280, height: 860 } });
  // The neutral site of the quick exit is never really fetched.
  await context.route('https://www.weather.gov/**', (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Weather</title><h1>Weather forecast</h1>' }));
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Refused to/i.test(text)) page.problems.push(`CSP: ${text}`);
  });
  page.on('pageerror', (err) => page.problems.push(`page error: ${err.message}`));
  return { context, page };
}

export function assertNoProblems(page) {
  assert.deepEqual(page.problems, [], 'no CSP violations or script errors');
}

export async function gotoApp(page) {
  await page.goto(`${BASE}/`);
  await page.locator('#login-username').waitFor();
}

export async function login(page, username) {
  await gotoApp(page);
  await page.fill('#login-username', username);
  await page.fill('#login-password', PASSWORD);
  await page.click('form button[type=submit]');
  await page.locator('nav.mainnav').waitFor();
  await waitIdle(page);
}

/** Waits until no loading indicator is shown. */
export async function waitIdle(page) {
  await page.waitForFunction(() => !document.querySelector('.loading, [aria-busy="true"]'), null, { timeout: 15000 });
}

export async function nav(page, name) {
  await page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
  await waitIdle(page);
}

/** axe-core on the current page: no serious or critical violation. */
export async function axeCheck(page, label) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    window.axe.run(document, { resultTypes: ['violations'], runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }));
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  assert.deepEqual(bad, [], `axe on ${label}`);
  const minor = result.violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical');
  if (minor.length) console.log(`axe on ${label}: ${minor.map((v) => `${v.id} (${v.impact})`).join(', ')}`);
  return result.violations.length;
}

export async function screenshot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

/** The document title and URL never carry names (S11): ids and neutral words only. */
export async function assertNeutralTitleAndUrl(page, forbidden) {
  const title = await page.title();
  const url = page.url();
  for (const word of forbidden.filter(Boolean)) {
    assert.ok(!title.includes(word), `title "${title}" must not contain "${word}"`);
    assert.ok(!decodeURIComponent(url).includes(word), `URL ${url} must not contain "${word}"`);
  }
}

/** A separate API session (its own cookie) for changing records behind the browser's back. */
export async function apiSession(username) {
  const res = await fetch(`${BASE}/api/v1/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  assert.equal(res.status, 200);
  const { csrf_token } = await res.json();
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const call = async (method, url, body) => {
    const r = await fetch(`${BASE}${url}`, {
      method,
      headers: { Cookie: cookie, 'X-CSRF-Token': csrf_token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: r.status, json: r.status === 204 ? null : await r.json() };
  };
  return { get: (url) => call('GET', url), patch: (url, body) => call('PATCH', url, body) };
}
