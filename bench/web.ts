/**
 * `npm run bench:web [-- --runs 30]`: the web app's figures.
 *   - bundle size: the JS and CSS that index.html loads, raw and gzipped (target ≤ 150 KB gzipped);
 *   - time to a generated tracklist in Chromium on the demo model (the `npm start` stack, trained
 *     on first use): from the click on Generate until the 16 songs are on the page, measured
 *     inside the page (target ≤ 300 ms), over `--runs` clicks after two warm-up clicks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { startLocalStack } from '../functions/localStack.ts';
import { buildWeb, WEB_DIST } from '../scripts/buildWeb.ts';
import { DESKTOP, launchChromium, openPage } from '../tests/e2e/browser.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const runs = Number(values.runs);

await buildWeb({ typecheck: false, log: () => undefined });
const html = readFileSync(join(WEB_DIST, 'index.html'), 'utf8');
const loaded = [...html.matchAll(/(?:href|src)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
let gz = 0;
for (const file of loaded) {
  const bytes = readFileSync(join(WEB_DIST, file));
  const z = gzipSync(bytes, { level: 9 }).length;
  gz += z;
  console.log(`${file}: ${(bytes.length / 1024).toFixed(1)} KB, gzipped ${(z / 1024).toFixed(1)} KB`);
}
console.log(`bundle: ${(gz / 1024).toFixed(1)} KB gzipped (JS + CSS; target ≤ 150 KB)`);

const stack = await startLocalStack({ port: 0, web: false, log: (l) => process.stderr.write(l + '\n') });
const browser = await launchChromium();
try {
  const site = stack.url.replace(/\/api$/, '');
  const { page, errors } = await openPage(browser, DESKTOP);
  const seed = stack.model.song(0);
  await page.goto(site + '/');
  await page.locator('#seed').fill(seed.name.slice(0, 18));
  await page.getByRole('option', { name: seed.name, exact: true }).click();
  const expected = 16;
  const once = () =>
    page.evaluate(
      `new Promise((resolve) => {
        const button = document.getElementById('generate');
        let busy = false;
        const t0 = performance.now();
        const done = () => {
          if (button.textContent !== 'Generate') busy = true;
          else if (busy && document.querySelectorAll('.tracks > li').length === ${expected}) {
            observer.disconnect();
            resolve(performance.now() - t0);
          }
        };
        const observer = new MutationObserver(done);
        observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
        button.click();
      })`,
    ) as Promise<number>;
  for (let i = 0; i < 2; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    times.push(await once());
    if ((i + 1) % 10 === 0) process.stderr.write(`bench:web ${i + 1}/${runs} clicks\n`);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  console.log(
    `click → ${expected} songs on the page, ${runs} runs: p50 ${q(0.5).toFixed(0)} ms, p90 ${q(0.9).toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms (target ≤ 300 ms; model ${stack.model.versionId}, ${stack.model.counts.songs} songs)`,
  );
  if (errors.length > 0) console.log(`console errors: ${errors.join('; ')}`);
} finally {
  await browser.close();
  await stack.stop();
}
