// Emergency access (S14), compelled disclosure (S20) and HTCDS import/export with progress.
// Named to run last: it imports thousands of survivors into the demo NGO. Its own survivors are
// created fresh (no cases), so the other files' lists and partner views are unaffected.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { assertNoProblems, axeCheck, BASE, launch, login, nav, newPage, PASSWORD, screenshot, waitIdle } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** A survivor without cases, created through the API as `username`. */
async function newSurvivor(username, firstName) {
  const res = await fetch(`${BASE}/api/v1/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  const { csrf_token } = await res.json();
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const r = await fetch(`${BASE}/api/v1/survivors`, {
    method: 'POST',
    headers: { Cookie: cookie, 'X-CSRF-Token': csrf_token, 'Content-Type': 'application/json' },
    body: JSON.stringify({ fields: { prs_FirstName: firstName, prs_Gender: 'Feminine' } }),
  });
  assert.equal(r.status, 201);
  return (await r.json()).id;
}

test('emergency access: reason required, time-boxed banner on the record; the supervisor sees and opens the alert', async () => {
  const survivorId = await newSurvivor('advocate', 'Emergencia');
  // A paralegal of the legal clinic cannot open the NGO's survivor...
  const { context, page } = await newPage(browser);
  await login(page, 'paralegal');
  await page.getByTestId('emergency-link').click();
  await page.getByTestId('emergency-form').waitFor();
  assert.match(await page.getByTestId('emergency-terms').innerText(), /1 hour/);
  assert.match(await page.getByTestId('emergency-terms').innerText(), /supervisors/);
  await axeCheck(page, 'emergency access form');
  await screenshot(page, 'emergency');
  await page.fill('#bg-survivor', survivorId);
  await page.fill('#bg-reason', 'too short');
  await page.getByRole('button', { name: 'Open the record for 1 hour' }).click();
  await page.locator('#bg-reason-err').waitFor();
  assert.equal(await page.locator('#bg-reason').getAttribute('aria-invalid'), 'true');
  assert.match(page.url(), /\/emergency/);
  // ...until she gives a reason.
  await page.fill('#bg-reason', 'Client called the hotline, in danger tonight; need contact details to arrange shelter.');
  await page.getByRole('button', { name: 'Open the record for 1 hour' }).click();
  await page.getByTestId('emergency-banner').waitFor();
  await waitIdle(page);
  assert.match(page.url(), new RegExp(`/survivors/${survivorId}$`));
  assert.match(await page.getByTestId('emergency-banner').innerText(), /Emergency access until .*recorded.*alerted/s);
  assert.match(await page.getByTestId('survivor-name').innerText(), /Emergencia/);
  assert.equal(await page.getByTestId('section-releases').count(), 0, 'another agency\'s releases stay hidden');
  assert.ok(!(await page.title()).includes('Emergencia'));
  await axeCheck(page, 'record under emergency access');
  assertNoProblems(page);
  await context.close();

  // The NGO's supervisor sees the alert on the home page, opens it, reads the reason.
  const sup = await newPage(browser);
  await login(sup.page, 'supervisor');
  const items = sup.page.getByTestId('action-items');
  await items.waitFor();
  const alert = items.locator('li[data-testid^="alert-"]').filter({ hasText: 'Emergency access now' }).first();
  await alert.locator('summary').click();
  assert.match(await alert.getByTestId('alert-reason').innerText(), /hotline/);
  assert.match(await alert.innerText(), /Northside Immigration Legal Clinic/);
  await axeCheck(sup.page, 'supervisor home with an alert');
  await screenshot(sup.page, 'home-alerts');
  await alert.getByRole('link', { name: "Open the survivor's record" }).click();
  await sup.page.getByTestId('survivor-name').waitFor();
  await waitIdle(sup.page);
  assert.match(sup.page.url(), new RegExp(`/survivors/${survivorId}$`));
  assertNoProblems(sup.page);
  await sup.context.close();
});

test('compelled disclosure: basis, reference, minimum data set; the task to tell the survivor is done from home', async () => {
  const survivorId = await newSurvivor('advocate', 'Compelida');
  const { context, page } = await newPage(browser);
  await login(page, 'supervisor');
  // In-app navigation to the new survivor (a reload would log out).
  await page.evaluate((id) => {
    history.pushState(null, '', `/survivors/${id}`);
    dispatchEvent(new PopStateEvent('popstate'));
  }, survivorId);
  await page.getByTestId('compelled-link').click();
  await page.getByTestId('compelled-form').waitFor();
  await axeCheck(page, 'compelled disclosure form');
  await page.selectOption('#cd-basis', 'subpoena');
  await page.fill('#cd-reference', 'Docket 2026-CR-0042');
  await page.selectOption('#cd-recipient', { label: 'Northside Immigration Legal Clinic' });
  // No category: refused, nothing recorded.
  await page.getByRole('button', { name: 'Record the disclosure' }).click();
  await page.getByRole('alert').filter({ hasText: 'Minimum information required' }).waitFor();
  await page.getByTestId('compelled-form').getByLabel('Identity').check();
  await page.getByRole('button', { name: 'Record the disclosure' }).click();
  await page.getByTestId('compelled-done').waitFor();
  assert.match(await page.getByTestId('compelled-done').innerText(), /Subpoena for Northside Immigration Legal Clinic/);
  await axeCheck(page, 'compelled disclosure recorded');
  await screenshot(page, 'compelled');

  // The task is on the home page; done there, it goes away.
  await page.getByRole('link', { name: 'Go to the home page' }).click();
  const task = page.getByTestId('action-items').locator('li[data-testid^="task-"]').filter({ hasText: 'Subpoena' });
  await task.first().waitFor();
  const count = await task.count();
  await axeCheck(page, 'home with a task');
  await task.first().getByRole('button', { name: 'The survivor has been told' }).click();
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="action-items"] li[data-testid^="task-"]').length === n - 1, count);
  await waitIdle(page);
  assert.equal(await task.count(), count - 1);
  assertNoProblems(page);
  await context.close();
});

function csv(rows, bad) {
  const lines = ['prs_FirstName,prs_Gender,prs_Citizenship'];
  for (let i = 0; i < rows; i += 1) lines.push(`Imported${i},${bad && i === 2 ? 'Purplish' : 'Feminine'},MX`);
  return `${lines.join('\r\n')}\r\n`;
}

async function uploadAndImport(page, name, text) {
  await page.setInputFiles('#import-file', { name, mimeType: 'text/csv', buffer: Buffer.from(text) });
  await page.getByRole('button', { name: 'Import', exact: true }).click();
}

test('import with a progress bar (all rows, or none with row/column named); export downloads a CSV once', async () => {
  const { context, page } = await newPage(browser);
  await login(page, 'supervisor');
  await nav(page, 'Import and export');
  await page.getByTestId('import').waitFor();
  await axeCheck(page, 'import and export');

  await uploadAndImport(page, 'people.csv', csv(3000, false));
  const bar = page.getByTestId('import').getByRole('progressbar');
  await bar.waitFor();
  await page.locator('[data-testid="import-done"], [data-testid="import-error"]').first().waitFor({ timeout: 60000 });
  assert.equal(await page.getByTestId('import-error').count(), 0, await page.getByTestId('import').innerText());
  assert.equal(await bar.getAttribute('aria-valuenow'), '3000');
  assert.equal(await bar.getAttribute('aria-valuemax'), '3000');
  assert.match(await page.getByTestId('import-done').innerText(), /3,000 survivors/);
  await axeCheck(page, 'import done');
  await screenshot(page, 'import');

  // A bad value on row 4: the error names row, column and value; nothing is imported.
  await uploadAndImport(page, 'bad.csv', csv(50, true));
  await page.getByTestId('import-error').waitFor({ timeout: 60000 });
  const err = await page.getByTestId('import-error').innerText();
  assert.match(err, /Nothing was imported/);
  assert.match(err, /Row 4, column 2/);
  assert.match(err, /Purplish/);
  await axeCheck(page, 'import error');

  // Export: a CSV, downloaded once.
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  await page.getByTestId('export-done').waitFor({ timeout: 60000 });
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the CSV file' }).click(),
  ]);
  const text = readFileSync(await download.path(), 'utf8');
  assert.match(text.split('\r\n')[0], /prs_Gender/);
  assert.ok(!text.includes('Imported1,'), 'de-identified: no names');
  assert.ok(text.split('\r\n').length > 3000, 'the imported survivors are exported');
  await page.getByText('The file was downloaded or has expired').waitFor();
  await axeCheck(page, 'export done');
  // The same screen in Spanish.
  await page.locator('.lang-switch button[lang="es"]').click();
  await page.getByRole('heading', { name: 'Importar y exportar', level: 1 }).waitFor();
  assert.match(await page.getByTestId('import-error').innerText(), /Fila 4, columna 2/);
  await axeCheck(page, 'import and export (es)');
  await page.locator('.lang-switch button[lang="en"]').click();
  assertNoProblems(page);
  await context.close();
});
