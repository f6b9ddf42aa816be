// Capabilities of the API with their own screens: a key for scripts (POST /api/v1/tokens) on the
// Security page, and erasing a survivor's record for good (DELETE /api/v1/survivors/{id}, S6)
// from the survivor page, for supervisors only.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BASE, assertNoProblems, axeCheck, launch, login, nav, newPage, waitIdle } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a key for scripts: created on the Security page, shown once, and it works as a bearer token', async () => {
  const { context, page } = await newPage(browser);
  await login(page, 'socialworker');
  await nav(page, 'Security');
  const section = page.getByTestId('api-tokens');
  await section.waitFor();
  await page.fill('#token-name', 'nightly report');
  await page.selectOption('#token-days', '90');
  await section.getByRole('button', { name: 'Create a key' }).click();
  const value = page.getByTestId('token-value');
  await value.waitFor();
  const token = (await value.innerText()).trim();
  assert.match(token, /^trl_/);
  await axeCheck(page, 'security (key created)');
  const me = await fetch(`${BASE}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(me.status, 200);
  assert.equal((await me.json()).username, 'socialworker');
  await section.getByRole('button', { name: 'I have copied the key' }).click();
  assert.equal(await page.getByTestId('token-value').count(), 0, 'shown once');
  assertNoProblems(page);
  await context.close();
});

test('a supervisor erases a survivor for good after typing the record number; an advocate has no such control', async () => {
  const { context, page } = await newPage(browser);
  await login(page, 'supervisor');
  await nav(page, 'Survivors');
  await page.getByRole('link', { name: 'Add a survivor' }).click();
  await page.fill('#f-prs_FirstName', 'Erasable');
  await page.getByRole('button', { name: 'Save' }).click();
  const panel = page.getByTestId('erase-panel');
  await panel.waitFor();
  await waitIdle(page);
  const id = new URL(page.url()).pathname.split('/').pop();
  await panel.getByRole('button', { name: 'Erase this record…' }).click();
  const confirm = panel.getByRole('button', { name: 'Erase for good' });
  assert.equal(await confirm.isDisabled(), true, 'disabled until the record number is typed');
  await page.fill('#erase-confirm', 's_wrong');
  assert.equal(await confirm.isDisabled(), true);
  await page.fill('#erase-confirm', id);
  await axeCheck(page, 'survivor page (erase confirmation)');
  await confirm.click();
  await page.getByTestId('erased').waitFor();
  await axeCheck(page, 'record erased');
  // The record is gone for everyone (the same answer as a record that never existed).
  const gone = await page.evaluate(async (sid) => (await fetch(`/api/v1/survivors/${sid}`)).status, id);
  assert.equal(gone, 404);
  await page.getByRole('link', { name: 'Back to the survivors list' }).click();
  await page.getByRole('link', { name: 'Add a survivor' }).waitFor();
  assertNoProblems(page);
  await context.close();

  const adv = await newPage(browser);
  await login(adv.page, 'advocate');
  await nav(adv.page, 'Survivors');
  await adv.page.locator('table tbody tr').first().getByRole('link').first().click();
  await adv.page.getByTestId('section-identity').waitFor();
  await waitIdle(adv.page);
  assert.equal(await adv.page.getByTestId('erase-panel').count(), 0);
  await adv.context.close();
});
