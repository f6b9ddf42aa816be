// Create a survivor and a case through the forms; edit with a field error; a stale edit (409).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiSession, assertNeutralTitleAndUrl, assertNoProblems, axeCheck, launch, login, nav, newPage, screenshot, waitIdle } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('create a survivor and a case through the forms, then edit with a field error', async () => {
  const { context, page } = await newPage(browser);
  await login(page, 'advocate');
  await nav(page, 'Survivors');
  await page.getByRole('link', { name: 'Add a survivor' }).click();
  await page.locator('#f-prs_FirstName').waitFor();
  assert.equal(await page.title(), 'New survivor · Trellis');
  // Typed inputs from the field table.
  assert.equal(await page.locator('#f-prs_Birthdate').getAttribute('type'), 'date');
  assert.equal(await page.locator('#f-prs_Gender').evaluate((el) => el.tagName), 'SELECT');
  assert.ok(await page.locator('#f-vic_TypeOfExploitation input[type=checkbox]').count() >= 10, 'multi-picklist as checkboxes');
  await axeCheck(page, 'survivor form');

  await page.fill('#f-prs_FirstName', 'Zoraida');
  await page.fill('#f-prs_SecondName', 'Quintanilla');
  await page.fill('#f-prs_Birthdate', '1994-03-07');
  await page.selectOption('#f-prs_Gender', 'Feminine');
  await page.fill('#f-prs_Citizenship', 'gt, mx');
  await page.fill('#f-prs_PrimaryLanguage', 'es');
  await page.fill('#f-prs_MailingCity', 'Riverton');
  await page.getByLabel('Forced labor', { exact: true }).check();
  await page.getByLabel('Took their documents').check();
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'survivor-form');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('section-identity').waitFor();
  await waitIdle(page);
  assert.equal(await page.getByTestId('survivor-name').innerText(), 'Zoraida Quintanilla');
  const identity = await page.getByTestId('section-identity').innerText();
  assert.match(identity, /Mar 7, 1994/);
  assert.match(await page.getByTestId('section-demographic').innerText(), /Guatemala, Mexico/);
  assert.match(await page.getByTestId('section-trafficking_history').innerText(), /Forced labor/);
  assert.match(await page.getByTestId('section-location').innerText(), /Riverton/, 'creator is on the team and sees the location');
  await assertNeutralTitleAndUrl(page, ['Zoraida', 'Quintanilla']);
  await axeCheck(page, 'new survivor page');

  // A case for this survivor.
  await page.getByRole('link', { name: 'Open a new case' }).click();
  await page.locator('#f-cas_Status').waitFor();
  assert.equal(await page.locator('#f-trl_AttorneyWorkProduct').count(), 0, 'no work product field for an advocate');
  await page.selectOption('#f-cas_Status', 'Active');
  await page.fill('#f-cas_IncomingReferralDate', '2026-10-01');
  await page.selectOption('#f-cas_ReasonForIncomingReferral', 'AdditionalServicesRequired');
  await page.fill('#f-trl_SafetyPlan', 'Call only the safe number after 6 pm.');
  await axeCheck(page, 'case form');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('case-heading').waitFor();
  await waitIdle(page);
  assert.match(await page.getByTestId('case-heading').innerText(), /^Case TR-/);
  assert.match(await page.getByTestId('section-safety_plan').innerText(), /safe number after 6 pm/);
  assert.match(await page.getByTestId('section-case_workflow').innerText(), /Oct 1, 2026/);
  await assertNeutralTitleAndUrl(page, ['Zoraida', 'Quintanilla']);

  // Edit the survivor: the API's field error appears next to the field.
  await page.getByRole('link', { name: "Open the survivor's record" }).click();
  await page.getByTestId('section-identity').waitFor();
  await waitIdle(page);
  assert.ok(await page.getByTestId('case-table').locator('tbody tr').count() === 1, 'the new case is listed');
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.locator('#f-prs_NumberOfChildren').waitFor();
  await waitIdle(page);
  assert.equal(await page.locator('#f-prs_FirstName').inputValue(), 'Zoraida');
  await page.fill('#f-prs_NumberOfChildren', '5000');
  await page.getByRole('button', { name: 'Save' }).click();
  const err = page.getByTestId('error-prs_NumberOfChildren');
  await err.waitFor();
  assert.equal(await err.innerText(), 'Enter a whole number from 0 to 1000.');
  assert.equal(await page.locator('#f-prs_NumberOfChildren').getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('#f-prs_NumberOfChildren').getAttribute('aria-describedby'), /f-prs_NumberOfChildren-error/);
  assert.ok(await page.getByTestId('error-summary').isVisible());
  await axeCheck(page, 'survivor form with an error');
  await screenshot(page, 'field-error');
  await page.fill('#f-prs_NumberOfChildren', '2');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('section-demographic').waitFor();
  await waitIdle(page);
  assert.match(await page.getByTestId('section-demographic').innerText(), /Number of children\s+2/);
  assertNoProblems(page);
  await context.close();
});

test('a stale edit (409) offers to reload the record', async () => {
  const { context, page } = await newPage(browser);
  await login(page, 'casemanager');
  await nav(page, 'Cases');
  const link = page.getByTestId('case-table').locator('tbody tr').nth(3).getByRole('link');
  const href = await link.getAttribute('href');
  const id = href.split('/').pop();
  await link.click();
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.locator('#f-cas_CaseOwner').waitFor();
  await waitIdle(page);

  // Someone else saves first.
  const other = await apiSession('supervisor');
  const current = (await other.get(`/api/v1/cases/${id}`)).json;
  assert.equal((await other.patch(`/api/v1/cases/${id}`, { version: current.version, fields: { cas_CaseOwner: 'supervisor' } })).status, 200);

  await page.fill('#f-cas_CaseOwner', 'casemanager');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('conflict').waitFor();
  assert.match(await page.getByTestId('conflict').innerText(), /Someone else changed this record/);
  await axeCheck(page, 'conflict');
  await page.getByRole('button', { name: 'Reload the record' }).click();
  await page.waitForFunction(() => document.querySelector('#f-cas_CaseOwner')?.value === 'supervisor');
  assert.equal(await page.getByTestId('conflict').count(), 0);
  assertNoProblems(page);
  await context.close();
});
