// What the browser flows share: the Chromium they drive and axe-core on a
// page (WCAG 2.1 A and AA).
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

/** Debian's Chromium (or $CHROMIUM), headless, without background traffic. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/** axe-core on the page as it is now: one readable line per violation. */
export async function axeProblems(page, name) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    }),
  );
  return result.violations.map((v) => {
    const where = v.nodes.map((n) => `${n.target.join(' ')} ${n.html.slice(0, 120)}`).join('; ');
    return `axe on ${name} (${page.url()}): ${v.id} [${v.impact}] ${v.help}: ${where}`;
  });
}

/** The end of a flow: every problem found, and a failing exit if any. */
export function finish(problems, flow, looked) {
  if (problems.length) {
    console.error(`${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
    process.exit(1);
  }
  console.log(`${flow} passed: ${looked} pages looked at, no axe violations`);
}
