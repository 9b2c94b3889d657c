// The staff member's first day, in real Chromium (driven by playwright-core),
// with axe-core (WCAG 2.1 A and AA) on every page: open the enrolment link,
// choose a password, register the authenticator, sign in, make a mistake in
// the start form and correct it, register the exit, register a referral
// and an activity and decide the referral, sign out; then a coordinator
// signs in, sees the count in the report page and sets a budget.
//
// Run by tests/web_browser.rs, which prepares the database and the server
// and passes: BASE (http://127.0.0.1:PORT), STAFF_LINK and COORD_LINK
// (enrolment paths), PNR (a synthetic personnummer), SHOTS (a directory for
// the screenshots). Exits non-zero with a readable list of what failed.
import { mkdirSync } from 'node:fs';
import { axeProblems, launch, finish } from './common.mjs';
import { totp, selfTest } from './totp.mjs';

const { BASE, STAFF_LINK, COORD_LINK, PNR, SHOTS } = process.env;
for (const [k, v] of Object.entries({ BASE, STAFF_LINK, COORD_LINK, PNR, SHOTS })) {
  if (!v) throw new Error(`${k} is not set`);
}
mkdirSync(SHOTS, { recursive: true });
selfTest();

const PASSWORD = 'ett långt lösenord för test';
const lastYear = new Date().getFullYear() - 1;
const problems = [];
const visited = [];
let shot = 0;

function check(ok, what) {
  if (!ok) problems.push(what);
}

/** axe-core on the page as it is now, then a screenshot. */
async function look(page, name) {
  const found = await axeProblems(page, name);
  problems.push(...found);
  shot += 1;
  const file = `${SHOTS}/${String(shot).padStart(2, '0')}-${name}.png`;
  await page.screenshot({ path: file, fullPage: true });
  console.log(`looked at ${name}: ${found.length} axe violations, ${file}`);
}

const browser = await launch();

/** Click and wait for the page it leads to (a 422 page is a page too). */
async function go(page, selector) {
  await page.click(selector);
  await page.waitForLoadState('load');
}

/** A browser context of its own per person; axe needs the CSP bypassed. */
async function person() {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.on('request', (r) => visited.push(r.url()));
  return page;
}

/** Enrol through the link and sign in with a fresh code. */
async function enrolAndSignIn(page, link, login, who) {
  await page.goto(BASE + link);
  await look(page, `${who}-enrol`);
  const secret = (await page.textContent('#totp-secret')).trim();
  const otpauth = await page.getAttribute('#otpauth', 'href');
  check(otpauth.startsWith('otpauth://totp/') && otpauth.includes(`secret=${secret}`), `otpauth link: ${otpauth}`);
  await page.fill('#password', PASSWORD);
  await page.fill('#password_again', PASSWORD);
  await page.fill('#code', totp(secret));
  await go(page, 'form[action^="/enrol/"] button[type=submit]');
  check(page.url().endsWith('/login?enrolled=1'), `after enrolment: ${page.url()}`);
  await look(page, `${who}-enrolled`);
  await page.fill('#login', login);
  await page.fill('#password', PASSWORD);
  // The enrolment spent this 30-second step's code: the app's next code.
  await page.fill('#code', totp(secret, Date.now() + 30_000));
  await go(page, 'form[action="/login"] button[type=submit]');
  check(new URL(page.url()).pathname === '/', `${who} signed in: ${page.url()}`);
  await look(page, `${who}-home`);
}

try {
  // --- The staff member ---
  const eva = await person();
  await enrolAndSignIn(eva, STAFF_LINK, 'eva', 'staff');
  await go(eva, 'a[href="/interventions/ALLIN"]');
  await look(eva, 'staff-intervention');
  await go(eva, 'main a[href="/start?intervention=ALLIN"]');
  await look(eva, 'staff-start-form');

  // A mistake: a date in the future, and no consent ticked.
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  await eva.fill('#pnr', PNR);
  await eva.fill('#date', tomorrow);
  await eva.selectOption('#support', 'sickness_benefit');
  await go(eva, 'main form[action="/start"] button[type=submit]');
  check(await eva.isVisible('.error-summary'), 'the error summary is shown');
  check((await eva.locator('.error-summary a[href="#consent"]').count()) === 1, 'the summary links to consent');
  check((await eva.locator('.error-summary a[href="#date"]').count()) === 1, 'the summary links to the date');
  check((await eva.inputValue('#date')) === tomorrow, 'the date is kept');
  check((await eva.inputValue('#pnr')) === PNR, 'the personnummer is kept in its own field');
  check((await eva.inputValue('#support')) === 'sickness_benefit', 'the support is kept');
  check((await eva.getAttribute('#date', 'aria-invalid')) === 'true', 'the date is marked invalid');
  await look(eva, 'staff-start-errors');
  // The summary's link takes the user to the field.
  await eva.click('.error-summary a[href="#consent"]');
  check(await eva.evaluate(() => location.hash === '#consent'), 'the link goes to the field');

  // Corrected.
  await eva.fill('#date', `${lastYear}-03-01`);
  await eva.check('#consent');
  await go(eva, 'main form[action="/start"] button[type=submit]');
  check(/\/enrolments\/[0-9a-f-]{36}\?saved=start$/.test(eva.url()), `after the start: ${eva.url()}`);
  check(await eva.isVisible('#short-id'), 'the enrolment page shows the id');
  await look(eva, 'staff-enrolment');

  // The exit.
  await go(eva, 'a:has-text("Registrera avslut")');
  await look(eva, 'staff-exit-form');
  await eva.fill('#date', `${lastYear}-09-30`);
  await eva.selectOption('#outcome', 'work');
  await go(eva, 'form[action="/exit"] button[type=submit]');
  check(eva.url().endsWith('?saved=exit'), `after the exit: ${eva.url()}`);
  check((await eva.textContent('main')).includes(`${lastYear}-09-30`), 'the exit date is shown');
  await look(eva, 'staff-exited');

  // Activities and referrals: a referral that arrived before the start
  // (never a personnummer), an activity with a mistake, then corrected,
  // and the referral's decision: it became the enrolment just registered.
  await go(eva, 'header a[href="/activities"]');
  await look(eva, 'staff-activities-home');
  await go(eva, 'main a[href="/activities/ALLIN"]');
  check((await eva.locator('input[name="pnr"]').count()) === 0, 'the referral form has no personnummer field');
  await look(eva, 'staff-activities');
  await eva.fill('#referral_date', `${lastYear}-02-20`);
  await eva.selectOption('#gender', 'woman');
  await eva.fill('#birth_year', '1985');
  await eva.fill('#municipality', 'Vänersborg');
  await eva.selectOption('#referrer', 'af');
  await go(eva, 'form[action="/activities/ALLIN/referrals"] button[type=submit]');
  check(eva.url().includes('done=referral'), `after the referral: ${eva.url()}`);
  check((await eva.textContent('main')).includes('Remisser som väntar på beslut (1)'), 'the referral waits for a decision');
  await look(eva, 'staff-referral-added');
  const recently = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  await eva.fill('#activity_date', recently);
  await eva.fill('#women', 'många');
  await go(eva, 'form[action="/activities/ALLIN"] button[type=submit]');
  check((await eva.locator('.error-summary a[href="#kind"]').count()) === 1, 'the summary links to the kind');
  check((await eva.locator('.error-summary a[href="#women"]').count()) === 1, 'the summary links to women');
  check((await eva.inputValue('#activity_date')) === recently, 'the activity date is kept');
  check((await eva.getAttribute('#women', 'aria-invalid')) === 'true', 'women is marked invalid');
  await look(eva, 'staff-activity-errors');
  await eva.selectOption('#kind', 'seminar');
  await eva.fill('#women', '12');
  await eva.fill('#men', '7');
  await eva.fill('#organisations', '3');
  await go(eva, 'form[action="/activities/ALLIN"] button[type=submit]');
  check(eva.url().endsWith('?done=activity'), `after the activity: ${eva.url()}`);
  const listed = await eva.locator('table[aria-labelledby="recent-title"] tbody tr').allTextContents();
  check(listed.length === 1 && listed[0].includes(recently) && listed[0].includes('Seminarium') && listed[0].includes('19'), `the activity is listed: ${listed}`);
  await look(eva, 'staff-activity-added');
  await go(eva, 'main a[href^="/referrals/"]');
  await look(eva, 'staff-referral-decide');
  const options = await eva.locator('#enrolment option').allTextContents();
  check(options.length === 2 && options[1].includes(`start ${lastYear}-03-01`), `the enrolment to choose: ${options}`);
  check(!options.join(' ').replace(/\D/g, '').includes(PNR.replace(/\D/g, '').slice(2)), 'no personnummer among the enrolments');
  await eva.selectOption('#decision', 'started');
  await eva.fill('#date', `${lastYear}-03-01`);
  await eva.selectOption('#enrolment', { index: 1 });
  await go(eva, 'form[action^="/referrals/"] button[type=submit]');
  check(eva.url().endsWith('?done=decided'), `after the decision: ${eva.url()}`);
  check((await eva.textContent('main')).includes('Inga remisser väntar på beslut'), 'no referral waits any more');
  await look(eva, 'staff-referral-decided');

  // The person asks what is stored about them: a mistake first (withdraw
  // without the confirmation), then the extract.
  await go(eva, 'a[href="/rights"]');
  await look(eva, 'staff-rights');
  await eva.fill('#pnr', PNR);
  await go(eva, 'button[value="withdraw"]');
  check((await eva.locator('.error-summary a[href="#confirm"]').count()) === 1, 'withdraw asks for the confirmation');
  check((await eva.inputValue('#pnr')) === '', 'the personnummer is not shown again');
  await look(eva, 'staff-rights-errors');
  await eva.fill('#pnr', PNR);
  await go(eva, 'button[value="extract"]');
  const extract = await eva.textContent('main');
  check(extract.includes('Registerutdrag ur sustrack'), 'the extract is shown');
  check(extract.includes(`${lastYear}-09-30`) && extract.includes('registrerade avslut'), 'the extract has the exit and who registered it');
  check(!extract.replace(/\D/g, '').includes(PNR.replace(/\D/g, '').slice(2)), 'the extract holds no personnummer');
  await look(eva, 'staff-extract');

  // English works too.
  await go(eva, 'form[action="/lang"] button');
  check((await eva.getAttribute('html', 'lang')) === 'en', 'the language switch');
  await look(eva, 'staff-english');

  await go(eva, 'form[action="/logout"] button');
  check(eva.url().includes('/login'), `after signing out: ${eva.url()}`);

  // --- The coordinator ---
  const cecilia = await person();
  await enrolAndSignIn(cecilia, COORD_LINK, 'cecilia', 'coordinator');
  await cecilia.goto(`${BASE}/report?year=${lastYear}&suppress_below=0`);
  await look(cecilia, 'coordinator-report');
  const table = cecilia.locator('table').first();
  const headers = await table.locator('thead th').allTextContents();
  const started = headers.findIndex((h) => h.trim() === 'Nya');
  const exited = headers.findIndex((h) => h.trim() === 'Avslutade');
  const row = table.locator('tbody tr', { hasText: 'ALLIN' });
  const cells = await row.locator('td').allTextContents();
  check(started >= 0 && cells[started]?.trim() === '1', `the report counts one new in ALLIN: ${headers} / ${cells}`);
  check(exited >= 0 && cells[exited]?.trim() === '1', `the report counts one exit in ALLIN: ${headers} / ${cells}`);

  // The annual report is written: publish the year, then see what a
  // purge would remove (its dry run; nothing is removed).
  await go(cecilia, 'a[href="/records"]');
  await look(cecilia, 'coordinator-records');
  await go(cecilia, 'main a[href="/quality"]');
  check((await cecilia.textContent('main')).includes('Avslut utan uppföljningssvar (1)'), 'the quality list has the exit without follow-up answers');
  await look(cecilia, 'coordinator-quality');
  await go(cecilia, 'a[href="/records"]');
  await cecilia.fill('#year', String(lastYear));
  await go(cecilia, 'form[action="/records/publish"] button[type=submit]');
  check((await cecilia.textContent('.notice')).includes(`${lastYear} är publicerad`), 'the year is published');
  await look(cecilia, 'coordinator-published');
  await cecilia.fill('#ended_before', `${lastYear}-12-31`);
  await go(cecilia, 'form[action="/records/purge"] button[type=submit]');
  check((await cecilia.textContent('main')).includes('ALLIN: 1'), 'the dry run lists the exited enrolment');
  await look(cecilia, 'coordinator-purge-dry-run');
  await cecilia.goto(`${BASE}/report?year=${lastYear}&suppress_below=0`);
  check((await cecilia.textContent('main')).includes('Alla siffror är som publicerade'), 'the report says it is as published');

  // The year's budget and actual cost: a mistake, then corrected.
  await go(cecilia, 'header a[href="/budgets"]');
  await look(cecilia, 'coordinator-budgets');
  await cecilia.selectOption('#intervention', 'ALLIN');
  await cecilia.fill('#year', String(lastYear));
  await cecilia.fill('#budget', 'en miljon');
  await go(cecilia, 'form[method="post"][action="/budgets"] button[type=submit]');
  check((await cecilia.locator('.error-summary a[href="#budget"]').count()) === 1, 'the summary links to the budget');
  check((await cecilia.inputValue('#intervention')) === 'ALLIN', 'the intervention is kept');
  await look(cecilia, 'coordinator-budget-errors');
  await cecilia.fill('#budget', '1 250 000');
  await cecilia.fill('#actual', '1 180 000');
  await go(cecilia, 'form[method="post"][action="/budgets"] button[type=submit]');
  check(cecilia.url().includes(`/budgets?year=${lastYear}&done=set`), `after the budget: ${cecilia.url()}`);
  const budgetPage = await cecilia.textContent('main');
  check(budgetPage.includes(`Budgeten för ALLIN ${lastYear} är sparad`), 'the budget is saved');
  check(budgetPage.includes('1\u00a0250\u00a0000') && budgetPage.includes('\u221270\u00a0000'), 'the line with its deviation');
  await look(cecilia, 'coordinator-budget-set');
} catch (e) {
  problems.push(`the flow stopped: ${e.stack || e}`);
} finally {
  await browser.close();
}

// The personnummer went only in a POST body, never in a URL.
const digits = PNR.replace(/\D/g, '');
for (const url of visited) {
  if (url.replace(/\D/g, '').includes(digits.slice(2))) problems.push(`a URL holds the personnummer: ${url}`);
}

finish(problems, 'browser flow', shot);
