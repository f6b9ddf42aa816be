// Consent: an advocate records a signed release for the sheriff's victim specialist; the
// law-enforcement view shows exactly the released categories; revoked, they vanish (S1, S2, S3).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertNoProblems, axeCheck, launch, login, nav, newPage, screenshot, waitIdle } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('grant a release: the LE view shows that category; revoke it: it vanishes', async () => {
  const adv = await newPage(browser);
  await login(adv.page, 'advocate');
  await nav(adv.page, 'Survivors');
  const link = adv.page.locator('table tbody tr').first().getByRole('link').first();
  const survivorId = (await link.getAttribute('href')).split('/').pop();
  await link.click();
  await adv.page.getByTestId('section-releases').waitFor();
  await waitIdle(adv.page);
  assert.match(await adv.page.getByTestId('section-releases').innerText(), /No releases/);

  // Before any release nothing is shared with the sheriff's victim specialist.
  const le = await newPage(browser);
  await login(le.page, 'lespecialist');
  await le.page.getByTestId('shared-empty').waitFor();

  await adv.page.getByRole('button', { name: 'Record a signed release' }).click();
  await adv.page.getByTestId('release-form').waitFor();
  await adv.page.selectOption('#rel-recipient', { label: 'County Sheriff Victim Services' });
  await adv.page.getByTestId('release-form').getByLabel('What happened (trafficking history)').check();
  await adv.page.getByTestId('release-form').getByLabel('Status and referral').check();
  await adv.page.selectOption('#rel-purpose', 'investigation');
  await adv.page.fill('#rel-signer', 'Signer Name');
  await axeCheck(adv.page, 'release form');
  await adv.page.getByRole('button', { name: 'Save the release' }).click();
  await adv.page.getByText('In force').waitFor();
  await screenshot(adv.page, 'releases');

  // The specialist now sees the shared case and the trafficking history, nothing else.
  await le.page.getByTestId('shared-refresh').click();
  await le.page.getByTestId('shared').locator('tbody tr').first().waitFor();
  await waitIdle(le.page);
  const shared = le.page.getByTestId('shared').locator('tbody tr');
  assert.ok((await shared.count()) >= 1, 'the released survivor\'s case is listed');
  await shared.first().getByRole('link').first().click();
  await le.page.getByRole('link', { name: "Open the survivor's record" }).click();
  await le.page.getByTestId('section-trafficking_history').waitFor();
  await waitIdle(le.page);
  assert.equal(await le.page.getByTestId('section-identity').count(), 0, 'names are not released');
  assert.equal(await le.page.getByTestId('section-contact').count(), 0);
  assert.equal(await le.page.getByTestId('section-location').count(), 0);
  await axeCheck(le.page, 'LE partner view');
  await screenshot(le.page, 'le-shared');

  // The disclosure is accounted for on the survivor's page.
  await nav(adv.page, 'Survivors');
  await adv.page.locator(`a[href="/survivors/${survivorId}"]`).first().click();
  await adv.page.getByTestId('disclosures').waitFor();
  assert.match(await adv.page.getByTestId('disclosures').innerText(), /County Sheriff Victim Services/);

  // Revoked: gone on the very next request.
  await adv.page.selectOption(`[id^="reason-"]`, 'survivor_request');
  await adv.page.getByRole('button', { name: 'Take back' }).click();
  await adv.page.getByText('Taken back').waitFor();
  await le.page.getByRole('navigation').getByRole('link', { name: 'Home', exact: true }).click();
  await waitIdle(le.page);
  await le.page.getByTestId('shared-refresh').click();
  await le.page.getByTestId('shared-empty').waitFor();
  assert.equal(await le.page.getByTestId('shared').locator('tbody tr').count(), 0, 'revoked: nothing shared');
  assertNoProblems(adv.page);
  assertNoProblems(le.page);
  await adv.context.close();
  await le.context.close();
});
