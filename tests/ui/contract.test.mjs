// Screens checked against API contracts with stubbed responses: the audit trail (its route is
// not in the back end yet), an expired session, and keyboard-only use.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertNoProblems, axeCheck, gotoApp, launch, login, nav, newPage, PASSWORD, screenshot, waitIdle } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

function auditPage(before) {
  const top = before ?? 120;
  const items = [];
  for (let seq = top - 1; seq >= Math.max(top - 50, 1); --seq) {
    items.push({ seq, time: '2026-11-20T15:04:05Z', actor: 'u_stub', action: seq % 2 ? 'case.read' : 'survivor.update',
      outcome: seq % 7 ? 'allow' : 'deny', target: `c_stub${seq}`, survivor: 's_stub', request: 'r1', detail: '' });
  }
  return { items, next_before: top - 50 > 1 ? top - 50 : null };
}

test('audit trail screen follows the GET /api/v1/audit contract (stubbed), with paging', async () => {
  const { context, page } = await newPage(browser);
  const seen = [];
  await page.route('**/api/v1/audit?*', (route) => {
    const url = new URL(route.request().url());
    seen.push(url.search);
    const before = url.searchParams.get('before');
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(auditPage(before ? Number(before) : undefined)) });
  });
  await login(page, 'auditor');
  await nav(page, 'Audit trail');
  const rows = page.getByTestId('audit-table').locator('tbody tr');
  assert.equal(await rows.count(), 50);
  assert.match(await rows.first().innerText(), /119[\s\S]*case\.read[\s\S]*denied[\s\S]*c_stub119/);
  assert.match(await rows.nth(1).innerText(), /allowed/);
  await axeCheck(page, 'audit trail with entries');
  await screenshot(page, 'audit');
  await page.getByRole('button', { name: 'Show older entries' }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=audit-table] tbody tr').length === 100);
  assert.deepEqual(seen, ['?limit=50', '?limit=50&before=70']);
  assertNoProblems(page);
  await context.close();
});

test('an expired session returns to the login page with a plain message', async () => {
  const { context, page } = await newPage(browser);
  await login(page, 'advocate');
  await page.route('**/api/v1/survivors?*', (route) =>
    route.fulfill({ status: 401, contentType: 'application/json', body: '{"error":{"code":"unauthenticated","message":"log in first"}}' }));
  await page.getByRole('navigation').getByRole('link', { name: 'Survivors' }).click();
  await page.getByText('Your session has ended. Please log in again.').waitFor();
  await page.waitForURL((u) => u.pathname === '/', { timeout: 5000 }); // the record address is not left behind
  await axeCheck(page, 'session ended');
  await context.close();
});

test('keyboard only: log in, open a case, edit and save', async () => {
  const { context, page } = await newPage(browser);
  await gotoApp(page);
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    return el?.id || el?.getAttribute('href') || el?.textContent?.trim() || el?.tagName;
  });
  const tabTo = async (pred, max = 40) => {
    for (let i = 0; i < max; ++i) {
      await page.keyboard.press('Tab');
      if (pred(await focused())) return;
    }
    assert.fail('focus never reached the target');
  };
  await tabTo((f) => f === 'login-username');
  await page.keyboard.type('casemanager');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'login-password');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.locator('nav.mainnav').waitFor();
  await waitIdle(page);
  await tabTo((f) => f === '/cases');
  await page.keyboard.press('Enter');
  await page.getByTestId('case-table').waitFor();
  await waitIdle(page);
  await tabTo((f) => typeof f === 'string' && f.startsWith('/cases/c_'));
  await page.keyboard.press('Enter');
  await page.getByTestId('section-case_workflow').waitFor();
  await waitIdle(page);
  await tabTo((f) => typeof f === 'string' && f.endsWith('/edit'));
  await page.keyboard.press('Enter');
  await page.locator('#f-cas_ReferringOrganisation').waitFor();
  await waitIdle(page);
  await tabTo((f) => f === 'f-cas_ReferringOrganisation');
  await page.keyboard.type('County Health Clinic');
  await tabTo((f) => f === 'Save', 80);
  await page.keyboard.press('Enter');
  await page.getByTestId('section-case_workflow').waitFor();
  await waitIdle(page);
  assert.match(await page.getByTestId('section-case_workflow').innerText(), /County Health Clinic/);
  // The focus indicator is visible on links and buttons.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none');
  assertNoProblems(page);
  await context.close();
});
