// The desk pages as a coordinator, an admin and an auditor use them, in
// real Chromium (driven by playwright-core), with axe-core (WCAG 2.1 A and
// AA) on every page and every state of a page:
// - the coordinator: the report (an intervention ticked, the xlsx
//   downloaded), the export, the import (dry run, confirm, done), the
//   interventions (add one, edit it), the audit trail, the accessibility
//   statement and the privacy page;
// - the admin: the users (add a staff user with an intervention, the
//   one-time link), the backup (downloaded), the audit trail;
// - the auditor: the audit trail (filtered, and its CSV).
//
// Run by tests/web_browser.rs, which prepares the database and the server
// and passes: BASE (http://127.0.0.1:PORT), COORD_LINK, ADMIN_LINK and
// AUDIT_LINK (enrolment paths), YEAR (the year the registrations are in),
// STARTS_A (how many started in intervention A that year), SHOTS (a
// directory for the screenshots) and DOWNLOADS (a directory for the
// downloaded files: report.xlsx, export.csv, backup.age, log.csv). Exits
// non-zero with a readable list of what failed; prints `screenshot: PATH`
// for each page looked at.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { axeProblems, launch, finish } from './common.mjs';
import { totp, selfTest } from './totp.mjs';

const { BASE, COORD_LINK, ADMIN_LINK, AUDIT_LINK, YEAR, STARTS_A, SHOTS, DOWNLOADS } = process.env;
for (const [k, v] of Object.entries({ BASE, COORD_LINK, ADMIN_LINK, AUDIT_LINK, YEAR, STARTS_A, SHOTS, DOWNLOADS })) {
  if (!v) throw new Error(`${k} is not set`);
}
mkdirSync(SHOTS, { recursive: true });
mkdirSync(DOWNLOADS, { recursive: true });
selfTest();

const PASSWORD = 'ett långt lösenord för test';
const problems = [];
let shot = 0;

function check(ok, what) {
  if (!ok) problems.push(what);
}

/** axe-core on the page as it is now, then a screenshot. */
async function look(page, name) {
  const found = await axeProblems(page, name);
  problems.push(...found);
  shot += 1;
  const file = `${SHOTS}/desk-${String(shot).padStart(2, '0')}-${name}.png`;
  await page.screenshot({ path: file, fullPage: true });
  console.log(`looked at ${name}: ${found.length} axe violations`);
  console.log(`screenshot: ${file}`);
}

const browser = await launch();

/** Click and wait for the page it leads to (a 422 page is a page too). */
async function go(page, selector) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);
}

/** Click a link or button that downloads; save the file; its suggested name. */
async function download(page, selector, saveAs) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const failure = await file.failure();
  if (failure) throw new Error(`the download from ${selector} failed: ${failure}`);
  await file.saveAs(saveAs);
  return file.suggestedFilename();
}

/** A browser context of its own per person; axe needs the CSP bypassed. */
async function person() {
  const context = await browser.newContext({
    bypassCSP: true,
    acceptDownloads: true,
    viewport: { width: 1100, height: 900 },
  });
  return context.newPage();
}

/** Enrol through the link and sign in with a fresh code. */
async function enrolAndSignIn(page, link, login, who) {
  await page.goto(BASE + link);
  const secret = (await page.textContent('#totp-secret')).trim();
  await page.fill('#password', PASSWORD);
  await page.fill('#password_again', PASSWORD);
  await page.fill('#code', totp(secret));
  await go(page, 'form[action^="/enrol/"] button[type=submit]');
  check(page.url().endsWith('/login?enrolled=1'), `${who} after enrolment: ${page.url()}`);
  await page.fill('#login', login);
  await page.fill('#password', PASSWORD);
  // The enrolment spent this 30-second step's code: the app's next code.
  await page.fill('#code', totp(secret, Date.now() + 30_000));
  await go(page, 'form[action="/login"] button[type=submit]');
  check(new URL(page.url()).pathname === '/', `${who} signed in: ${page.url()}`);
  await look(page, `${who}-home`);
}

/** The cells of the row of `table` whose header or first cell starts with `code`. */
async function rowCells(table, code) {
  const rows = table.locator('tbody tr');
  for (let i = 0; i < (await rows.count()); i += 1) {
    const cells = (await rows.nth(i).locator('th, td').allTextContents()).map((c) => c.trim());
    if (cells[0]?.startsWith(`${code} `) || cells[0] === code) return cells;
  }
  return null;
}

/** The audit trail: the page, then filtered by `action`. */
async function auditTrail(page, who, action) {
  await page.goto(`${BASE}/log`);
  check(new URL(page.url()).pathname === '/log', `${who} reaches the audit trail: ${page.url()}`);
  await look(page, `${who}-log`);
  const options = await page.locator('#action option').evaluateAll((os) => os.map((o) => o.value));
  check(options.includes(action), `${who}: the action filter offers ${action}: ${options}`);
  await page.selectOption('#action', action);
  await go(page, 'main form[action="/log"] button[type=submit]');
  check(new URL(page.url()).searchParams.get('action') === action, `${who}: the filter is in the URL: ${page.url()}`);
  const actions = (await page.locator('main table tbody tr td:nth-child(3)').allTextContents()).map((a) => a.trim());
  check(actions.length > 0, `${who}: the audit trail filtered by ${action} has entries`);
  check(actions.every((a) => a === action), `${who}: the audit trail filtered by ${action} shows only it: ${actions}`);
  await look(page, `${who}-log-${action.replace(/\W+/g, '-')}`);
}

try {
  // --- The coordinator ---
  const cecilia = await person();
  await enrolAndSignIn(cecilia, COORD_LINK, 'cecilia', 'coordinator');

  // The report: last year by default.
  await go(cecilia, 'header nav a[href="/report"]');
  check((await cecilia.inputValue('#year')) === YEAR, `the report's year is last year by default: ${await cecilia.inputValue('#year')}`);
  await look(cecilia, 'coordinator-report-default');
  // Tick intervention A and show it.
  await cecilia.check('#intervention-A');
  await go(cecilia, 'form.report-options button[type=submit]');
  const url = new URL(cecilia.url());
  check(url.searchParams.getAll('intervention').join() === 'A' && url.searchParams.get('year') === YEAR,
    `the report's URL holds the choice: ${cecilia.url()}`);
  check(await cecilia.isChecked('#intervention-A'), 'intervention A stays ticked');
  check(await cecilia.isVisible('#report-heading'), 'the report is shown');
  const table = cecilia.locator('.report-doc table').first();
  const headers = (await table.locator('thead th').allTextContents()).map((h) => h.trim());
  const started = headers.indexOf('Nya');
  const cells = await rowCells(table, 'A');
  check(started >= 0 && cells?.[started] === STARTS_A, `the report counts ${STARTS_A} new in A: ${headers} / ${cells}`);
  const b = await rowCells(table, 'B');
  check(b === null, `intervention B is not in a report of A: ${b}`);
  await look(cecilia, 'coordinator-report-A');
  // The downloads: one of each format, xlsx saved.
  const formats = await cecilia.locator('ul.downloads a[download]').evaluateAll((as) =>
    as.map((a) => new URL(a.href).searchParams.get('format')));
  check(['xlsx', 'csv', 'html', 'md', 'json'].every((f) => formats.includes(f)), `the download formats: ${formats}`);
  const xlsxName = await download(cecilia, 'ul.downloads a[href*="format=xlsx"]', `${DOWNLOADS}/report.xlsx`);
  check(xlsxName.startsWith('sustrack-') && xlsxName.endsWith('.xlsx'), `the xlsx file's name: ${xlsxName}`);
  const xlsx = readFileSync(`${DOWNLOADS}/report.xlsx`);
  check(xlsx.subarray(0, 2).toString() === 'PK', 'the xlsx file is a zip');

  // The export: the defaults, then the file.
  await cecilia.goto(`${BASE}/export`);
  await look(cecilia, 'coordinator-export');
  await go(cecilia, 'main form[action="/export"] button[type=submit]');
  check(await cecilia.isVisible('main .notice[role=status] a[href="/export/file"]'), 'the export is ready');
  await look(cecilia, 'coordinator-export-done');
  const csvName = await download(cecilia, 'a[href="/export/file"]', `${DOWNLOADS}/export.csv`);
  check(csvName.endsWith('.csv'), `the export file's name: ${csvName}`);
  check(statSync(`${DOWNLOADS}/export.csv`).size > 0, 'the export file is not empty');

  // The import: a file of interventions, dry run, confirm, done.
  await cecilia.goto(`${BASE}/import`);
  await look(cecilia, 'coordinator-import');
  await cecilia.setInputFiles('#file', {
    name: 'insatser.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('code,name\nIMP1,Importerad insats ett\nIMP2,Importerad insats två\n', 'utf-8'),
  });
  await go(cecilia, 'main form[action="/import"] button[type=submit]');
  check(await cecilia.isVisible('#ready-title'), `the dry run passed: ${await cecilia.textContent('main')}`);
  check((await cecilia.textContent('#ready-title')).includes('insatser.csv'), 'the dry run names the file');
  await look(cecilia, 'coordinator-import-dry-run');
  await go(cecilia, 'form[action="/import/confirm"] button[type=submit]');
  if (await cecilia.isVisible('#import-progress')) await look(cecilia, 'coordinator-import-running');
  // The page's script polls and reloads when the job ends.
  await cecilia.waitForSelector('#job-title ~ p[role=status]:has-text("Klar")', { timeout: 30_000 });
  check((await cecilia.textContent('#job-title')).includes('insatser.csv'), 'the result names the file');
  await look(cecilia, 'coordinator-import-done');

  // The interventions: the list, one added, its edit page.
  await cecilia.goto(`${BASE}/admin/interventions`);
  for (const code of ['PAR', 'A', 'B', 'IMP1', 'IMP2']) {
    check((await cecilia.locator(`#row-${code}`).count()) === 1, `the interventions list shows ${code}`);
  }
  await look(cecilia, 'coordinator-interventions');
  await cecilia.fill('#code', 'NYC');
  await cecilia.fill('#name', 'Ny insats under Par');
  await cecilia.selectOption('#parent', 'PAR');
  await cecilia.fill('#target_work_studies', '40');
  await go(cecilia, 'main form[action="/admin/interventions"] button[type=submit]');
  check(cecilia.url().includes('saved=add'), `after adding an intervention: ${cecilia.url()}`);
  check((await cecilia.locator('#row-NYC').count()) === 1, 'the new intervention is listed');
  await look(cecilia, 'coordinator-interventions-added');
  await go(cecilia, 'a[href="/admin/interventions/NYC"]');
  check((await cecilia.inputValue('#name')) === 'Ny insats under Par', 'the edit page shows the name');
  check((await cecilia.inputValue('#parent')) === 'PAR', 'the edit page shows the parent');
  await look(cecilia, 'coordinator-intervention-edit');
  await cecilia.fill('#name', 'Ny insats under Par, ändrad');
  await go(cecilia, 'main form[action="/admin/interventions/NYC"] button[type=submit]');
  check(cecilia.url().includes('saved=edit'), `after editing the intervention: ${cecilia.url()}`);
  check((await cecilia.inputValue('#name')) === 'Ny insats under Par, ändrad', 'the changed name is kept');
  await look(cecilia, 'coordinator-intervention-edited');

  // The audit trail: her reports are in it.
  await auditTrail(cecilia, 'coordinator', 'report');

  // The public pages, from the footer.
  await go(cecilia, 'footer a[href="/accessibility"]');
  await look(cecilia, 'accessibility');
  await go(cecilia, 'footer a[href="/privacy"]');
  await look(cecilia, 'privacy');

  // --- The admin ---
  const adam = await person();
  await enrolAndSignIn(adam, ADMIN_LINK, 'adam', 'admin');
  await adam.goto(`${BASE}/admin/users`);
  await look(adam, 'admin-users');
  await adam.fill('#login', 'nils');
  await adam.fill('#name', 'Nils Nyman');
  await adam.check('#role-staff');
  await adam.check('#intervention-A');
  await go(adam, 'main form[action="/admin/users"] > button[type=submit]');
  const link = (await adam.textContent('#enrol-link'))?.trim() ?? '';
  check(link.includes('/enrol/'), `the one-time link is shown: ${link}`);
  const nils = await adam.locator('#user-nils').textContent();
  check(nils.includes('handläggare') && nils.includes('A'), `the new user is listed with role and intervention: ${nils}`);
  await look(adam, 'admin-users-added');
  await adam.goto(`${BASE}/admin/backup`);
  await look(adam, 'admin-backup');
  const backupName = await download(adam, 'main form[action="/admin/backup"] button[type=submit]', `${DOWNLOADS}/backup.age`);
  check(backupName.startsWith('sustrack'), `the backup's file name: ${backupName}`);
  const backup = readFileSync(`${DOWNLOADS}/backup.age`);
  check(backup.subarray(0, 21).toString() === 'age-encryption.org/v1', 'the backup is an age file');
  await auditTrail(adam, 'admin', 'user add');

  // --- The auditor ---
  const astrid = await person();
  await enrolAndSignIn(astrid, AUDIT_LINK, 'astrid', 'auditor');
  await auditTrail(astrid, 'auditor', 'export');
  const logName = await download(astrid, 'main a[download][href*="/log"]', `${DOWNLOADS}/log.csv`);
  check(logName.endsWith('.csv'), `the audit trail's CSV name: ${logName}`);
  const log = readFileSync(`${DOWNLOADS}/log.csv`, 'utf-8');
  check(log.split('\n').length >= 2, `the audit trail's CSV has rows: ${log.slice(0, 200)}`);
} catch (e) {
  problems.push(`the flow stopped: ${e.stack || e}`);
} finally {
  await browser.close();
}

finish(problems, 'desk flow', shot);
