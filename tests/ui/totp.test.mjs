// Two-step login (TOTP, SECURITY.md S8): a user turns it on from the Security page (QR code and
// key, confirm with a code, recovery codes shown once), logs out, and logs in again with a code
// computed here (RFC 6238 with node's HMAC-SHA1); a wrong code shows the error; a recovery code
// works. Uses its own user so the demo logins stay single-factor for the other tests.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { BASE, PASSWORD, assertNoProblems, axeCheck, gotoApp, launch, login, nav, newPage, screenshot, waitIdle } from './lib.mjs';

const USER = `totp.user${process.pid}`;
let browser;

/** RFC 6238 (HMAC-SHA1, 30 s, 6 digits) for the step `offset` steps from now. */
function totp(base32, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const bytes = [];
  for (const c of base32.replace(/[\s=]/g, '').toUpperCase()) {
    value = ((value << 5) | alphabet.indexOf(c)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + offset));
  const h = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const o = h[19] & 15;
  const n = ((h[o] & 127) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

before(async () => {
  // The user is added with the CLI to the store the test server serves, in the demo NGO.
  const res = await fetch(`${BASE}/api/v1/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'advocate', password: PASSWORD }),
  });
  assert.equal(res.status, 200);
  const { user } = await res.json();
  assert.ok(process.env.TRELLIS_UI_DATA, 'run through tests/ui/run.sh');
  execFileSync(process.env.TRELLIS_BIN ?? '../../build/trellis',
    ['user', 'add', '--data', process.env.TRELLIS_UI_DATA, '--agency', user.agency_id, '--username', USER,
      '--role', 'advocate', '--display-name', 'Two-step tester'],
    { input: `${PASSWORD}\n` });
  browser = await launch();
});
after(async () => { await browser?.close(); });

async function passwordStep(page) {
  await gotoApp(page);
  await page.fill('#login-username', USER);
  await page.fill('#login-password', PASSWORD);
  await page.click('form button[type=submit]');
  await page.locator('#login-code').waitFor();
  await waitIdle(page);
}

test('turn on two-step login, then log in with a code; a wrong code shows an error', async () => {
  const { context, page } = await newPage(browser);
  await login(page, USER);
  await nav(page, 'Security');
  assert.match(await page.title(), /^Account security · Trellis$/);
  await axeCheck(page, 'security (off)');
  await page.getByRole('button', { name: 'Turn on two-step login' }).click();
  const setup = page.getByTestId('totp-setup');
  await setup.waitFor();
  await page.locator('.qr img').waitFor();
  await axeCheck(page, 'security (set-up with QR code)');
  await screenshot(page, 'security-totp-setup');
  const secret = (await page.getByTestId('totp-secret').innerText()).replace(/\s/g, '');
  assert.match(secret, /^[A-Z2-7]{32}$/);
  // The QR code is drawn in the browser (a data: URL), never fetched from anywhere.
  assert.match(await page.locator('.qr img').getAttribute('src'), /^data:image\/png;base64,/);

  await page.fill('#totp-confirm-code', totp(secret));
  await page.getByRole('button', { name: 'Check code and turn on' }).click();
  const codesBox = page.getByTestId('recovery-codes');
  await codesBox.waitFor();
  await axeCheck(page, 'security (recovery codes)');
  const codes = (await codesBox.locator('li').allInnerTexts()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  for (const c of codes) assert.match(c, /^[A-Z2-9]{5}-[A-Z2-9]{5}$/);
  await page.getByRole('button', { name: 'I have saved my codes' }).click();
  assert.match(await page.getByTestId('totp-on').innerText(), /Recovery codes left: 10/);
  await axeCheck(page, 'security (on)');
  // Nothing about the second factor is kept in the browser.
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.ok(!stored.includes(secret) && !stored.includes(codes[0]));

  await page.getByRole('button', { name: 'Log out' }).click();
  await passwordStep(page);
  const code = page.locator('#login-code');
  assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
  assert.equal(await code.getAttribute('inputmode'), 'numeric');
  await axeCheck(page, 'login (code step)');
  await screenshot(page, 'login-code');
  const near = new Set([-1, 0, 1, 2].map((o) => totp(secret, o)));
  await code.fill(near.has('000000') ? '111111' : '000000');
  await page.click('form button[type=submit]');
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /code did not work/);
  await axeCheck(page, 'login (wrong code)');
  // The confirming step is spent: the next one (inside the ±1 window) logs in.
  await code.fill(totp(secret, 1));
  await page.click('form button[type=submit]');
  await page.locator('nav.mainnav').waitFor();
  await waitIdle(page);
  assert.equal(await page.locator('#login-code').count(), 0);

  // A recovery code instead of the app, once.
  await page.getByRole('button', { name: 'Log out' }).click();
  await passwordStep(page);
  await page.getByRole('button', { name: 'Use a recovery code' }).click();
  await page.fill('#login-code', codes[0]);
  await page.click('form button[type=submit]');
  await page.locator('nav.mainnav').waitFor();
  await nav(page, 'Security');
  assert.match(await page.getByTestId('totp-on').innerText(), /Recovery codes left: 9/);
  assertNoProblems(page);
  await context.close();
});

test('the code step in Spanish', async () => {
  const { context, page } = await newPage(browser, { lang: 'es-ES' });
  await passwordStep(page);
  assert.match(await page.locator('h1').innerText(), /Escriba su código/);
  await page.getByRole('button', { name: 'Usar un código de recuperación' }).click();
  await page.getByText('Código de recuperación', { exact: true }).waitFor();
  await axeCheck(page, 'login code step (es)');
  await page.getByRole('button', { name: 'Empezar de nuevo' }).click();
  await page.locator('#login-password').waitFor();
  assertNoProblems(page);
  await context.close();
});

test('an administrator resets a lost second factor; the user logs in with the password alone', async () => {
  const { context, page } = await newPage(browser);
  await login(page, 'admin');
  const row = page.getByRole('row').filter({ hasText: USER });
  await row.getByRole('button', { name: `Reset two-step login for ${USER}` }).click();
  await row.getByText('They will log in with their password only').waitFor();
  await axeCheck(page, 'admin home (reset confirmation)');
  await row.getByRole('button', { name: 'Yes, reset' }).click();
  await page.getByTestId('users-status').getByText(`Two-step login was reset for ${USER}.`).waitFor();
  await page.getByRole('button', { name: 'Log out' }).click();
  await login(page, USER);  // no code step any more
  await nav(page, 'Security');
  await page.getByRole('button', { name: 'Turn on two-step login' }).waitFor();
  assertNoProblems(page);
  await context.close();
});
