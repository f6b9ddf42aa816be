// Relief screening on the case page: facts entered by the legal team, the screening element by
// element with citations and deadlines, and its explanation read in Spanish.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertNoProblems, axeCheck, launch, login, nav, newPage, screenshot, waitIdle } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// Public scenario S001 (adult, sex trafficking by force, cooperated with the FBI).
const FACTS = {"date_of_birth": "1995-04-12", "immigration_status": "noncitizen_no_lawful_status", "marital_status": "never_married", "currently_in_us": true, "trafficking_action_present": true, "commercial_sex_act_induced": true, "means_force_fraud_coercion": true, "first_trafficking_act_date": "2022-03-01", "trafficking_end_date": "2025-06-30", "trafficking_occurred_in_us": true, "trafficking_forms": ["sex_trafficking"], "physically_present_on_account_of_trafficking": true, "departed_us_after_trafficking": false, "reported_to_law_enforcement": true, "le_agency_level": "federal", "complied_with_reasonable_le_requests": "complied", "le_declaration_i914b": "signed", "willing_to_assist_le": true, "potential_witness": true, "extreme_hardship_unusual_severe_harm": true, "hardship_basis_economic_only": false, "inadmissibility": "entry_or_presence_only", "committed_severe_trafficking_of_others": false, "incapacitated_or_incompetent": false, "qualifying_crimes": ["trafficking", "rape"], "qualifying_crime_first_act_date": "2022-03-01", "crime_occurred_in_us_or_violated_us_law": true, "substantial_physical_or_mental_abuse": true, "possesses_information_about_crime": true, "helpful_to_authorities": "has_been", "last_arrival_date": "2021-11-20", "fears_persecution_protected_ground": false, "asylum_mandatory_bar": false, "cp_status": "not_requested", "t_application_status": "not_filed", "i918b_status": "not_requested"};

test('an attorney records facts, reads the screening, then its explanation in Spanish', async () => {
  const { context, page } = await newPage(browser);
  await login(page, 'attorney');
  await nav(page, 'Cases');
  await page.getByTestId('case-table').locator('tbody tr').first().getByRole('link').click();
  await page.getByTestId('section-screening').waitFor();
  await waitIdle(page);
  assert.match(await page.getByTestId('section-screening').innerText(), /No facts are recorded/);

  await page.getByRole('link', { name: 'Edit' }).click();
  await page.locator('#f-trl_ReliefFacts').waitFor();
  assert.equal(await page.locator('#f-trl_ScreeningSummary').count(), 0, 'the stored screening is not editable');
  await page.fill('#f-trl_ReliefFacts', JSON.stringify(FACTS));
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('section-screening').waitFor();
  await waitIdle(page);

  const t = page.getByTestId('relief-T');
  await t.locator('summary').click();
  assert.match(await t.innerText(), /Qualifies/);
  assert.match(await t.innerText(), /INA 101\(a\)\(15\)\(T\)/, 'each element carries its citation');
  assert.match(await page.getByTestId('deadlines-statutory').innerText(), /2022/, 'the asylum one-year deadline');
  const englishExplanation = await page.getByTestId('explanation-T').innerText();
  await axeCheck(page, 'case screening');
  await page.getByTestId('section-screening').scrollIntoViewIfNeeded();
  await screenshot(page, 'screening');

  await page.getByRole('button', { name: 'Español' }).click();
  await page.waitForFunction(
    (before) => { const el = document.querySelector('[data-testid="explanation-T"]'); return el && el.textContent !== before; },
    englishExplanation);
  const es = page.getByTestId('relief-T');
  if (!(await es.getAttribute('open'))) await es.locator('summary').click();
  assert.match(await page.getByTestId('explanation-T').innerText(), /visa T/);
  assert.match(await es.innerText(), /Califica/);
  assert.match(await page.getByTestId('section-screening').innerText(), /Plazos fijados por la ley/);
  await axeCheck(page, 'case screening (es)');
  assertNoProblems(page);
  await context.close();
});
