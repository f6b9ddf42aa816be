// Evidence items: an advocate adds an item with a file, names it in a release to the sheriff's
// agency and attaches the signed copy; the `lespecialist` sees and downloads exactly that item;
// revoked, it is gone (S1, S3). axe on the evidence form, the release form and the partner view.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { assertNoProblems, axeCheck, launch, login, nav, newPage, screenshot, waitIdle } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const PDF = Buffer.from('%PDF-1.4\n% UI evidence test\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');
const TITLE = `Recorded statement ${Date.now()}`;

async function download(page, button) {
  const [dl] = await Promise.all([page.waitForEvent('download'), button.click()]);
  assert.match(dl.suggestedFilename(), /^evidence-e_[a-z0-9]+\.pdf$/, 'a file name made of the id only');
  return readFile(await dl.path());
}

test('add evidence with a file, name it in a release, the LE specialist downloads it; revoked, gone', async () => {
  const adv = await newPage(browser);
  await login(adv.page, 'advocate');
  await nav(adv.page, 'Survivors');
  const link = adv.page.locator('table tbody tr').first().getByRole('link').first();
  const survivorId = (await link.getAttribute('href')).split('/').pop();
  await link.click();
  const section = adv.page.getByTestId('section-evidence');
  await section.waitFor();
  await waitIdle(adv.page);

  // Add an item with a file.
  await section.getByRole('button', { name: 'Add evidence' }).click();
  const form = adv.page.getByTestId('evidence-form');
  await form.waitFor();
  await adv.page.fill('#ev-title', TITLE);
  await adv.page.selectOption('#ev-kind', 'written_statement');
  // The item can belong to one of the survivor's cases (demo survivors have one).
  const caseOption = adv.page.locator('#ev-case option').nth(1);
  await caseOption.waitFor({ state: 'attached' });
  await adv.page.selectOption('#ev-case', await caseOption.getAttribute('value'));
  await adv.page.fill('#ev-date', '2026-03-01');
  await adv.page.fill('#ev-description', 'Told to the advocate, in Spanish.');
  // A web page posing as a PDF is refused (the server checks the bytes); the item is kept once.
  await adv.page.setInputFiles('#ev-file', { name: 'fake.pdf', mimeType: 'application/pdf', buffer: Buffer.from('<html><script>alert(1)</script></html>') });
  await form.getByRole('button', { name: 'Save the item' }).click();
  await form.getByText('The file was not accepted.', { exact: false }).waitFor();
  await axeCheck(adv.page, 'evidence form with an error');
  await adv.page.setInputFiles('#ev-file', { name: 'statement.pdf', mimeType: 'application/pdf', buffer: PDF });
  await form.getByRole('button', { name: 'Save the item' }).click();
  const item = section.getByTestId('evidence-list').locator('li', { hasText: TITLE });
  await item.waitFor();
  await waitIdle(adv.page);
  assert.equal(await item.count(), 1, 'one item, not one per try');
  assert.equal(await item.getByRole('link', { name: 'Open the case this item belongs to' }).count(), 1);
  assert.deepEqual(await download(adv.page, item.getByRole('button', { name: 'Download' })), PDF);
  await screenshot(adv.page, 'evidence');

  // Name it in a release to the sheriff's agency (no other category).
  await adv.page.getByRole('button', { name: 'Record a signed release' }).click();
  const rel = adv.page.getByTestId('release-form');
  await rel.waitFor();
  await adv.page.selectOption('#rel-recipient', { label: 'County Sheriff Victim Services' });
  await rel.getByTestId('release-evidence').getByLabel(TITLE, { exact: false }).check();
  await adv.page.fill('#rel-signer', 'Signer Name');
  await axeCheck(adv.page, 'release form with evidence');
  await rel.getByRole('button', { name: 'Save the release' }).click();
  const row = adv.page.locator('li.release', { hasText: 'Evidence items named: 1' }).filter({ hasText: 'In force' });
  await row.waitFor();

  // Attach the signed copy; the release shows it and downloads it.
  await row.locator('input[type=file]').setInputFiles({ name: 'signed.pdf', mimeType: 'application/pdf', buffer: PDF });
  await row.getByRole('button', { name: 'Attach the signed copy' }).click();
  await row.getByText('Signed copy on file.').waitFor();
  assert.deepEqual(await download(adv.page, row.getByRole('button', { name: 'Download the signed copy' })), PDF);
  await axeCheck(adv.page, 'releases with a signed copy');

  // The specialist sees exactly that item and downloads it.
  const le = await newPage(browser);
  await login(le.page, 'lespecialist');
  const shared = le.page.getByTestId('shared-evidence');
  await shared.waitFor();
  await shared.getByTestId('shared-evidence-refresh').click();
  const leItem = shared.locator('li', { hasText: TITLE });
  await leItem.waitFor();
  await waitIdle(le.page);
  assert.equal(await shared.locator('li').count(), 1, 'only the named item');
  assert.equal(await shared.getByText('Signed release', { exact: true }).count(), 0, 'the signed copy is not shared');
  assert.deepEqual(await download(le.page, leItem.getByRole('button', { name: 'Download' })), PDF);
  await axeCheck(le.page, 'LE shared evidence');
  await screenshot(le.page, 'le-evidence');

  // The disclosure is accounted for.
  await nav(adv.page, 'Survivors');
  await adv.page.locator(`a[href="/survivors/${survivorId}"]`).first().click();
  await adv.page.getByTestId('disclosures').waitFor();
  assert.match(await adv.page.getByTestId('disclosures').innerText(), /Named evidence items/);

  // Revoked: gone on the next request.
  const active = adv.page.locator('li.release', { hasText: 'Evidence items named: 1' }).filter({ hasText: 'In force' });
  await active.locator('select').selectOption('survivor_request');
  await active.getByRole('button', { name: 'Take back' }).click();
  await adv.page.locator('li.release', { hasText: 'Evidence items named: 1' }).filter({ hasText: 'Taken back' }).waitFor();
  await shared.getByTestId('shared-evidence-refresh').click();
  await shared.getByText('No evidence items have been shared with your agency.').waitFor();
  assertNoProblems(adv.page);
  assertNoProblems(le.page);
  await adv.context.close();
  await le.context.close();
});
