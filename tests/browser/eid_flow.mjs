// Sign-in with e-legitimation (OpenID Connect) as people use it, in real
// Chromium (driven by playwright-core), against the real OpenID Provider of
// tests/oidc/provider.mjs, with axe-core (WCAG 2.1 A and AA) on every page of
// ours (never on the provider's login page, which is not ours):
// a. nora, a new staff member, opens her enrolment link (an e-ID link and no
//    password form), signs in at the provider as anna: "Nästan klart";
// b. she tries to sign in before an administrator has confirmed: refused;
// c. adam, the admin, signs in with password and code (inside the closed
//    "reservkonto" details), sees the pending e-ID on the users page and
//    confirms it;
// d. nora signs in with the e-ID and lands on the home page; signs out;
// e. an unknown person (mallory at the provider) is refused;
// f. the sign-in page in English: "Sign in with e-ID", and the refusal too.
//
// Run by tests/web_browser.rs, which starts the provider and the server and
// passes: BASE (http://127.0.0.1:PORT), ISSUER (the provider's URL),
// ENROL_LINK (nora's enrolment path), ADMIN_LOGIN, ADMIN_PASSWORD and
// ADMIN_SECRET (adam's base32 TOTP secret), ACR (the acr the provider
// asserts by default), SHOTS (a directory for the screenshots). Exits
// non-zero with a readable list of what failed; prints `screenshot: PATH`
// for each page looked at.
import { mkdirSync } from 'node:fs';
import { axeProblems, launch, finish } from './common.mjs';
import { totp, selfTest } from './totp.mjs';

const { BASE, ISSUER, ENROL_LINK, ADMIN_LOGIN, ADMIN_PASSWORD, ADMIN_SECRET, ACR, SHOTS } = process.env;
for (const [k, v] of Object.entries({ BASE, ISSUER, ENROL_LINK, ADMIN_LOGIN, ADMIN_PASSWORD, ADMIN_SECRET, ACR, SHOTS })) {
  if (!v) throw new Error(`${k} is not set`);
}
mkdirSync(SHOTS, { recursive: true });
selfTest();

const ours = new URL(BASE).origin;
const theirs = new URL(ISSUER).origin;
const problems = [];
let shot = 0;
let looked = 0;

function check(ok, what) {
  if (!ok) problems.push(what);
}

/** axe-core on the page as it is now; a screenshot when `screenshot`. */
async function look(page, name, screenshot = true) {
  check(new URL(page.url()).origin === ours, `axe only on our pages, not ${page.url()}`);
  const found = await axeProblems(page, name);
  problems.push(...found);
  looked += 1;
  console.log(`looked at ${name}: ${found.length} axe violations`);
  if (screenshot) {
    shot += 1;
    const file = `${SHOTS}/eid-${String(shot).padStart(2, '0')}-${name}.png`;
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot: ${file}`);
  }
}

const browser = await launch();

/** Click and wait for the page it leads to (a 403 page is a page too). */
async function go(page, selector) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);
}

/**
 * A browser context of its own per person; axe needs the CSP bypassed.
 * `page.lastDocument` is the last main-frame document response that is not
 * a redirect (its status is the final page's).
 */
async function person() {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.requested = [];
  page.on('request', (r) => page.requested.push(r.url()));
  page.on('response', (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame() && (r.status() < 300 || r.status() >= 400)) {
      page.lastDocument = r;
    }
  });
  return page;
}

/** Text of the page's main element, whitespace collapsed. */
async function mainText(page) {
  return (await page.textContent('main')).replace(/\s+/g, ' ').trim();
}

/**
 * Click `selector` on our page (the e-ID link or button), sign in at the
 * provider as `who` with its default acr, and wait until the browser is
 * back on our server with the page loaded. Returns the final status.
 */
async function eid(page, selector, who, what) {
  page.lastDocument = undefined;
  await Promise.all([
    page.waitForURL((u) => u.origin === theirs && u.pathname.startsWith('/interaction/'), { waitUntil: 'load' }),
    page.click(selector),
  ]);
  // The provider's page: login and acr (loa3 by default), button "Logga in".
  check((await page.inputValue('#acr')) === ACR, `${what}: the provider's acr is ${ACR}`);
  check((await page.locator('button', { hasText: 'Logga in' }).count()) === 1, `${what}: the provider's "Logga in"`);
  await page.fill('#login', who);
  await Promise.all([
    page.waitForURL((u) => u.origin === ours, { waitUntil: 'load' }),
    page.click('form:not([action$="/abort"]) button[type=submit]'),
  ]);
  return page.lastDocument?.status();
}

try {
  // --- a. nora opens her enrolment link and binds her e-ID ---
  const nora = await person();
  await nora.goto(BASE + ENROL_LINK);
  await look(nora, 'enrol-link');
  check((await nora.locator('#eid-enrol').textContent()).trim() === 'Koppla min e-legitimation', 'the link says "Koppla min e-legitimation"');
  check((await nora.locator('input[type=password], input[name=password]').count()) === 0, 'staff are offered no password form');
  check((await nora.locator(`form[action="${ENROL_LINK}"]`).count()) === 0, 'no enrolment form for staff');
  let status = await eid(nora, '#eid-enrol', 'anna', 'binding');
  check(status === 200, `the binding answers 200, not ${status}`);
  check(new URL(nora.url()).pathname === '/login/oidc/callback', `after the binding: ${nora.url()}`);
  check((await nora.textContent('h1')).trim() === 'Nästan klart', `the binding's heading: ${await nora.textContent('h1')}`);
  let text = await mainText(nora);
  check(text.includes('Anna Andersson') && text.includes('kontot nora'), `the binding names Anna Andersson and nora: ${text}`);
  check(text.includes('En administratör behöver bekräfta'), `the binding says an admin confirms: ${text}`);
  await look(nora, 'enrol-almost-done');
  // The link is used up.
  const again = await nora.goto(BASE + ENROL_LINK);
  check(again.status() === 404, `the enrolment link after use: ${again.status()}`);

  // --- b. the sign-in page; waiting for the admin ---
  await nora.goto(`${BASE}/login`);
  await look(nora, 'login');
  check((await nora.locator('#eid-sign-in').textContent()).trim() === 'Logga in med e-legitimation', 'the e-ID button on the sign-in page');
  check(await nora.isVisible('#eid-sign-in'), 'the e-ID button is visible');
  check((await nora.locator('details form[action="/login"]').count()) === 1, 'the password form is inside a <details>');
  check(!(await nora.evaluate(() => document.querySelector('details').open)), 'the <details> is closed');
  check(!(await nora.isVisible('#password')), 'the password field is hidden while closed');
  check(
    (await nora.locator('details summary').textContent()).includes('Logga in med lösenord och kod (reservkonto)'),
    'the summary names the break-glass sign-in',
  );
  // The e-ID button comes first in the tab order of the main content.
  await nora.focus('#main');
  await nora.keyboard.press('Tab');
  check(await nora.evaluate(() => document.activeElement?.id === 'eid-sign-in'), 'Tab reaches the e-ID button first');
  status = await eid(nora, '#eid-sign-in', 'anna', 'pending sign-in');
  check(status === 403, `before confirmation the sign-in is refused with 403, not ${status}`);
  text = await mainText(nora);
  check(text.includes('väntar på att en administratör'), `the refusal says it waits for an admin: ${text}`);
  await look(nora, 'refused-pending');
  const home = await nora.goto(`${BASE}/`);
  check(new URL(nora.url()).pathname === '/login', `nora is not signed in: ${nora.url()} ${home.status()}`);

  // --- c. adam signs in with password and code, and confirms ---
  const adam = await person();
  await adam.goto(`${BASE}/login`);
  await adam.click('details summary');
  check(await adam.evaluate(() => document.querySelector('details').open), 'the summary opens the password form');
  check(await adam.isVisible('#password'), 'the password field shows when opened');
  await look(adam, 'login-details-open');
  await adam.fill('#login', ADMIN_LOGIN);
  await adam.fill('#password', ADMIN_PASSWORD);
  // The enrolment spent this 30-second step's code: the app's next code.
  await adam.fill('#code', totp(ADMIN_SECRET, Date.now() + 30_000));
  await go(adam, 'form[action="/login"] button[type=submit]');
  check(new URL(adam.url()).pathname === '/', `adam signed in: ${adam.url()}`);
  await adam.goto(`${BASE}/admin/users`);
  check(new URL(adam.url()).pathname === '/admin/users', `adam reaches the users: ${adam.url()}`);
  const pending = (await adam.textContent('#eid-nora')).replace(/\s+/g, ' ');
  for (const shown of ['E-legitimation väntar på bekräftelse', 'Anna Andersson', ISSUER, ACR]) {
    check(pending.includes(shown), `the pending e-ID shows ${shown}: ${pending}`);
  }
  const noraStatus = (await adam.textContent('#user-nora td:nth-of-type(3)')).replace(/\s+/g, ' ');
  check(noraStatus.includes('väntar på bekräftelse'), `nora's status: ${noraStatus}`);
  const confirm = adam.locator('form[action="/admin/users/nora/eid-confirm"] button');
  check((await confirm.count()) === 1, 'one confirm button for nora');
  check(
    (await confirm.evaluate((b) => b.textContent.replace(/\s+/g, ' ').trim())) === 'Bekräfta e-legitimation för nora',
    'the confirm button names what it confirms for a screen reader',
  );
  await look(adam, 'admin-users-pending');
  await go(adam, 'form[action="/admin/users/nora/eid-confirm"] button');
  check(new URL(adam.url()).pathname === '/admin/users', `after confirming: ${adam.url()}`);
  const notice = (await adam.textContent('.notice')).replace(/\s+/g, ' ');
  check(notice.includes('E-legitimationen är bekräftad'), `the notice: ${notice}`);
  const confirmed = (await adam.textContent('#eid-nora')).replace(/\s+/g, ' ');
  check(confirmed.includes('Loggar in med e-legitimation') && confirmed.includes('Anna Andersson'), `nora's e-ID after: ${confirmed}`);
  await look(adam, 'admin-users-confirmed');

  // --- d. nora signs in with her e-ID ---
  await nora.goto(`${BASE}/login`);
  status = await eid(nora, '#eid-sign-in', 'anna', 'confirmed sign-in');
  check(status === 200, `the sign-in ends on a page, not ${status}`);
  check(new URL(nora.url()).pathname === '/', `nora lands on the home page: ${nora.url()}`);
  const who = (await nora.textContent('.who strong').catch(() => '')).trim();
  check(who === 'nora', `signed in as nora, not ${who}`);
  await look(nora, 'home-nora');
  await go(nora, 'form[action="/logout"] button');
  check(new URL(nora.url()).pathname === '/login', `after signing out: ${nora.url()}`);
  await nora.goto(`${BASE}/`);
  check(new URL(nora.url()).pathname === '/login', `signed out for real: ${nora.url()}`);

  // --- e. someone the register does not know ---
  const mallory = await person();
  await mallory.goto(`${BASE}/login`);
  status = await eid(mallory, '#eid-sign-in', 'mallory', 'unknown person');
  check(status === 403, `an unknown e-ID is refused with 403, not ${status}`);
  text = await mainText(mallory);
  check(text.includes('inte kopplad till något konto'), `the refusal says not linked: ${text}`);
  check((await mallory.locator('main a[href="/login"]').count()) === 1, 'the refusal links to the sign-in page');
  await look(mallory, 'refused-unknown');

  // --- f. English ---
  await mallory.goto(`${BASE}/login`);
  await go(mallory, 'form[action="/lang"] button');
  check(new URL(mallory.url()).pathname === '/login', `the language switch stays on the sign-in page: ${mallory.url()}`);
  check((await mallory.getAttribute('html', 'lang')) === 'en', 'the page is in English');
  check((await mallory.locator('#eid-sign-in').textContent()).trim() === 'Sign in with e-ID', 'the e-ID button reads "Sign in with e-ID"');
  check(
    (await mallory.locator('details summary').textContent()).includes('Sign in with password and code (break-glass account)'),
    'the summary in English',
  );
  await look(mallory, 'login-english');
  mallory.requested.length = 0;
  status = await eid(mallory, '#eid-sign-in', 'mallory', 'unknown person in English');
  const asked = mallory.requested.find((u) => u.startsWith(theirs) && u.includes('client_id='));
  check(asked?.includes('ui_locales=en'), `the provider is asked for English: ${asked}`);
  check(status === 403, `in English too, refused with 403, not ${status}`);
  check((await mallory.getAttribute('html', 'lang')) === 'en', 'the refusal is in English');
  text = await mainText(mallory);
  check(text.includes('not linked to an account'), `the English refusal: ${text}`);
  await look(mallory, 'refused-unknown-english');
} catch (e) {
  problems.push(`the flow stopped: ${e.stack || e}`);
} finally {
  await browser.close();
}

finish(problems, 'e-ID flow', looked);
