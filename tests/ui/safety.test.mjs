// Quick exit (S18), Spanish, logout.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BASE, NEUTRAL, assertNoProblems, axeCheck, gotoApp, launch, login, nav, newPage, screenshot, waitIdle } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function openACase(page) {
  await nav(page, 'Cases');
  await page.getByTestId('case-table').locator('tbody tr').first().getByRole('link').click();
  await page.getByTestId('section-case_workflow').waitFor();
  await waitIdle(page);
  return page.getByTestId('case-heading').innerText();
}

async function assertNoAppContent(page, caseHeading) {
  await page.waitForLoadState('domcontentloaded');
  const body = await page.locator('body').innerText();
  assert.ok(!body.includes(caseHeading), 'the case is not shown');
  assert.equal(await page.locator('nav.mainnav').count(), 0, 'no logged-in app');
  assert.equal(await page.getByTestId('case-table').count(), 0);
}

test('quick exit button: neutral site, session ended, Back does not return to the case', async () => {
  const { context, page } = await newPage(browser);
  await login(page, 'advocate');
  const heading = await openACase(page);
  const exit = page.locator('#quick-exit');
  assert.ok(await exit.isVisible(), 'visible on the case page');
  await page.mouse.wheel(0, 2000); // fixed: still on screen after scrolling
  const top = await exit.evaluate((el) => el.getBoundingClientRect().top);
  assert.ok(await page.evaluate(() => window.scrollY) > 0 && top >= 0 && top < 100, 'still at the top of the viewport');
  await exit.click();
  await page.waitForURL(NEUTRAL);
  assert.equal(await page.title(), 'Weather');

  await page.goBack();
  await assertNoAppContent(page, heading);
  if (page.url().startsWith(BASE)) {
    await page.locator('#login-username').waitFor();
    await page.waitForURL((u) => u.pathname === '/', { timeout: 5000 }); // no record address left behind
  }
  // The server session is gone too (the logout went out as the page left).
  const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status).catch(() => 401);
  assert.equal(me, 401);
  await page.goBack().catch(() => undefined);
  await assertNoAppContent(page, heading);
  assertNoProblems(page);
  await context.close();
});

test('quick exit by pressing Escape three times', async () => {
  const { context, page } = await newPage(browser);
  await login(page, 'advocate');
  const heading = await openACase(page);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  assert.notEqual(page.url(), NEUTRAL, 'two presses do nothing');
  await page.keyboard.press('Escape');
  await page.waitForURL(NEUTRAL);
  await page.goBack();
  await assertNoAppContent(page, heading);
  await context.close();
});

test('quick exit from the keyboard: first Tab stop, Enter leaves', async () => {
  const { context, page } = await newPage(browser);
  await gotoApp(page);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'quick-exit');
  await page.keyboard.press('Enter');
  await page.waitForURL(NEUTRAL);
  await context.close();
});

test('Spanish: visible switch, Spanish strings and dates, kept for next visit; axe clean', async () => {
  const { context, page } = await newPage(browser);
  await gotoApp(page);
  await page.getByRole('button', { name: 'Español' }).click();
  await page.getByRole('heading', { name: 'Iniciar sesión en Trellis' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  assert.match(await page.getByTestId('safety-notice').innerText(), /Su seguridad en este dispositivo/);
  assert.equal(await page.locator('#quick-exit').innerText().then((s) => s.includes('Salida rápida')), true);
  await axeCheck(page, 'login (es)');
  await page.fill('#login-username', 'advocate');
  await page.fill('#login-password', 'trellis-demo-2026');
  await page.getByRole('button', { name: 'Entrar' }).click();
  await page.locator('nav.mainnav').waitFor();
  await waitIdle(page);
  assert.equal(await page.title(), 'Inicio · Trellis');
  await page.getByRole('heading', { name: 'Mis casos abiertos' }).waitFor();
  await axeCheck(page, 'home (es)');
  await nav(page, 'Casos');
  const header = await page.getByTestId('case-table').locator('thead').innerText();
  assert.match(header, /Número de caso/i);
  const dates = await page.getByTestId('case-table').locator('tbody tr td.date').first().innerText();
  assert.match(dates, /\d{1,2} (ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic)\.? \d{4}/, `Spanish date: ${dates}`);
  await axeCheck(page, 'case list (es)');
  await page.getByTestId('case-table').locator('tbody tr').first().getByRole('link').click();
  await page.getByRole('heading', { name: 'Estado y remisión' }).waitFor();
  await waitIdle(page);
  await axeCheck(page, 'case page (es)');
  await screenshot(page, 'spanish-case');
  // Switching back on an open page changes its body at once, without navigating.
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Status and referral' }).waitFor();
  await page.getByRole('button', { name: 'Español' }).click();
  await page.getByRole('heading', { name: 'Estado y remisión' }).waitFor();
  await nav(page, 'Sobrevivientes');
  await page.getByRole('link', { name: 'Agregar un sobreviviente' }).click();
  await page.getByText('Puede dejar cualquier pregunta sin responder').waitFor();
  assert.ok(await page.getByLabel('Fecha de nacimiento').isVisible());
  await axeCheck(page, 'survivor form (es)');
  // The preference (not sensitive) survives a reload; the session does not.
  await page.reload();
  await page.getByRole('heading', { name: 'Iniciar sesión en Trellis' }).waitFor();
  const stored = await page.evaluate(() => ({ ...localStorage }));
  assert.deepEqual(stored, { 'trellis.lang': 'es' }, 'only the language preference is in localStorage');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assertNoProblems(page);
  await context.close();
});

test('logout ends the session on the server and returns to the login page', async () => {
  const { context, page } = await newPage(browser);
  await login(page, 'socialworker');
  await nav(page, 'Cases');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByText('You have logged out.').waitFor();
  await page.waitForURL((u) => u.pathname === '/', { timeout: 5000 });
  const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
  assert.equal(me, 401);
  await axeCheck(page, 'logged out');
  assertNoProblems(page);
  await context.close();
});
