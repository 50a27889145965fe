import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalHost } from '../../functions/localHost.ts';
import type { LocalHost } from '../../functions/localHost.ts';
import { startLocalStack } from '../../functions/localStack.ts';
import type { LocalStack } from '../../functions/localStack.ts';
import { ModelProvider } from '../../shared/store/modelProvider.ts';
import { BlobModelRegistry } from '../../shared/store/modelRegistry.ts';
import { tempDir } from '../tempDirs.ts';
import { DESKTOP, fitsWidth, launchChromium, openPage, PHONE, screenshot } from './browser.ts';
import type { RecordedPage } from './browser.ts';
import { seedTinyDemo, TINY_TRAIN_ARGS } from './tinyModel.ts';

/*
 * The web app in real Chromium against the real `npm start` stack (Azurite, the Cosmos server, a
 * tiny trained model published through the Blob registry, the local host serving web/dist and
 * the API on one origin). Screenshots of the main pages land in tests/e2e/screenshots/.
 */

let dir: string;
let stack: LocalStack;
let site: string;
let browser: Browser;
const pages: RecordedPage[] = [];

beforeAll(async () => {
  dir = tempDir('tracklist-web-');
  await seedTinyDemo(dir);
  stack = await startLocalStack({ dataDir: dir, profile: 'tiny', trainArgs: TINY_TRAIN_ARGS, persist: false, port: 0, log: () => undefined });
  site = stack.url.replace(/\/api$/, '');
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function open(viewport = DESKTOP): Promise<RecordedPage> {
  const p = await openPage(browser, viewport, { permissions: ['clipboard-read', 'clipboard-write'], origin: site });
  pages.push(p);
  return p;
}

/** A song whose name the search finds, and a DJ. */
function catalogue() {
  const m = stack.model;
  const song = m.song(0);
  return { song, dj: m.dj(0), other: m.song(1) };
}

async function pickSeed(page: Page, name: string): Promise<void> {
  const input = page.locator('#seed');
  await input.fill(name.slice(0, Math.min(name.length, 18)));
  const option = page.getByRole('option', { name, exact: true });
  await option.waitFor();
  // Keyboard only: move to the option and take it.
  const options = await page.getByRole('option').allTextContents();
  const index = options.indexOf(name);
  for (let i = 0; i < index; i++) await input.press('ArrowDown');
  await input.press('Enter');
  await expect.poll(() => input.inputValue()).toBe(name);
}

async function generateRequest(page: Page, click: () => Promise<void>): Promise<Record<string, unknown>> {
  const request = page.waitForRequest((r) => r.url().endsWith('/api/tracklists') && r.method() === 'POST');
  await click();
  return JSON.parse((await request).postData() ?? '{}') as Record<string, unknown>;
}

const trackIds = (page: Page) => page.locator('.track').evaluateAll((els) => els.map((e) => e.getAttribute('data-song')));

async function download(page: Page, button: string): Promise<{ name: string; text: string }> {
  const event = page.waitForEvent('download');
  await page.getByRole('button', { name: button, exact: true }).click();
  const d = await event;
  return { name: d.suggestedFilename(), text: readFileSync((await d.path())!, 'utf8') };
}

describe('web app in Chromium', () => {
  it('generates from a searched seed without a taste, keyboard only, and exports and copies it', async () => {
    const { page } = await open();
    const { song } = catalogue();
    await page.goto(site + '/');
    await expect.poll(() => page.locator('footer').textContent()).toContain(`Model ${stack.model.versionId}`);
    await pickSeed(page, song.name);
    const body = await generateRequest(page, () => page.locator('#length').press('Enter'));
    expect(body).toMatchObject({ seedSong: song.id, length: 15 });
    expect(body).not.toHaveProperty('dj');
    await page.locator('.track').nth(15).waitFor();
    const ids = await trackIds(page);
    expect(ids).toHaveLength(16);
    expect(ids[0]).toBe(song.id);
    expect(new Set(ids).size).toBe(16);
    // Readable reward breakdown: taste and seed bars, per-level probabilities as percentages.
    await expect.poll(() => page.locator('.track').nth(3).locator('.level').count()).toBe(4);
    expect(await page.locator('.track').nth(3).locator('.level').first().textContent()).toMatch(/Broad .*%/);

    const csv = await download(page, 'CSV');
    expect(csv.name).toMatch(/\.csv$/);
    const rows = csv.text.trim().split('\r\n');
    expect(rows[0]).toBe('position,artist,title,song_id,user_score,seed_score,p_l3,p_l2,p_l1,p_song');
    expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(Array.from({ length: 16 }, (_, i) => String(i + 1)));
    expect(rows[1]).toContain(song.id);
    const m3u = await download(page, 'M3U8');
    expect(m3u.text.startsWith('#EXTM3U')).toBe(true);
    expect(m3u.text.match(/^#EXTINF:/gm)).toHaveLength(16);
    const json = JSON.parse((await download(page, 'JSON')).text) as { songs: { id: string }[] };
    expect(json.songs.map((s) => s.id)).toEqual(ids);

    await page.getByRole('button', { name: 'Copy as text' }).click();
    const copied = (await page.evaluate('navigator.clipboard.readText()')) as string;
    expect(copied).toContain(`01. ${song.name}`);
    expect(copied.split('\n').filter((l) => /^\d{2}\. /.test(l))).toHaveLength(16);
    await screenshot(page, 'desktop-generate');

    // Regenerate: another random seed, the same request otherwise.
    const again = await generateRequest(page, () => page.getByRole('button', { name: 'Regenerate' }).click());
    expect(again.seedSong).toBe(song.id);
    expect(again.rngSeed).not.toBe(body.rngSeed);
  });

  it('generates as a DJ with the steering controls in the request, and re-rolls one position', async () => {
    const { page } = await open();
    const { song, dj } = catalogue();
    await page.goto(site + '/');
    await pickSeed(page, song.name);
    await page.getByLabel('A DJ').check();
    await page.locator('#dj').fill(dj.name);
    await page.getByRole('option', { name: dj.name, exact: true }).click();
    await page.locator('#length').fill('8');
    await page.getByText('Advanced steering').click();
    // The form starts from the served model's own defaults (tuned at training time).
    const { defaults } = (await (await fetch(site + '/api/tracklists/defaults')).json()) as {
      defaults: { temperature: number[]; thresholds: number[]; adventurousness: number; userWeighting: number };
    };
    await expect.poll(() => page.locator('#adventurousness').inputValue()).toBe(String(defaults.adventurousness));
    expect(await page.locator('#temperature-1').inputValue()).toBe(String(defaults.temperature[1]));
    await screenshot(page, 'desktop-advanced');
    await page.locator('#temperature-0').fill('2');
    await page.locator('#thresholds-3').fill('0.01');
    await page.locator('#userWeighting').fill('3');
    await page.locator('#adventurousness').fill('0.4');
    await page.locator('#artistRepeatPenalty').fill('0.5');
    const body = await generateRequest(page, () => page.locator('#generate').click());
    expect(body).toMatchObject({
      seedSong: song.id,
      dj: dj.id,
      length: 8,
      temperature: [2, ...defaults.temperature.slice(1)],
      thresholds: [...defaults.thresholds.slice(0, 3), 0.01],
      userWeighting: 3,
      adventurousness: 0.4,
      artistRepeatPenalty: 0.5,
    });
    expect(body).not.toHaveProperty('steering');
    await page.locator('.track').nth(8).waitFor();
    const before = await trackIds(page);
    expect(before).toHaveLength(9);
    expect(await page.locator('.result h2').textContent()).toContain(`as ${dj.name}`);
    expect(body).toMatchObject({ explain: true });
    // Why a song is there: how it was picked, its named clusters, the model's evidence.
    await page.locator('.track').nth(2).getByText('Why this song').click();
    const why = page.locator('.track').nth(2).locator('.why');
    expect(await why.textContent()).toMatch(/Picked by the model, down its clusters: .+ › .+ › .+Sequence model: ranked it \d+(st|nd|rd|th) of \d+/);
    await screenshot(page, 'desktop-why');

    const reroll = await generateRequest(page, () => page.getByRole('button', { name: 'Re-roll song 4' }).click());
    expect(reroll).toMatchObject({ length: 3, prefix: before.slice(1, 3), exclude: before.slice(3), dj: dj.id });
    await expect.poll(async () => (await trackIds(page))[3]).not.toBe(before[3]);
    const after = await trackIds(page);
    expect(after.filter((_, i) => i !== 3)).toEqual(before.filter((_, i) => i !== 3));
    expect(before).not.toContain(after[3]);
  });

  it('validates before the request, and shows an API 400 beside the field it names', async () => {
    const p = await open();
    const { page } = p;
    const { song } = catalogue();
    await page.goto(site + '/');
    let requests = 0;
    page.on('request', (r) => r.url().endsWith('/api/tracklists') && requests++);
    await page.locator('#generate').click();
    expect(await page.locator('#seed-error').textContent()).toMatch(/seed song/);
    await pickSeed(page, song.name);
    await page.locator('#length').fill('0');
    await page.locator('#generate').click();
    expect(await page.locator('#length-error').textContent()).toMatch(/from 1 to 100/);
    expect(requests).toBe(0);
    // A request that gets past the form (as from an outdated client) is refused by the API.
    await page.locator('#length').fill('12');
    await page.route('**/api/tracklists', (route) => {
      const tampered = { ...(JSON.parse(route.request().postData() ?? '{}') as object), length: 500 };
      return route.continue({ postData: JSON.stringify(tampered) });
    });
    await page.locator('#generate').click();
    await expect.poll(() => page.locator('#length-error').textContent()).toMatch(/^length: Too big/);
    // Nothing typed was lost.
    expect(await page.locator('#length').inputValue()).toBe('12');
    expect(await page.locator('#seed').inputValue()).toBe(song.name);
    await screenshot(page, 'desktop-generate-error');
    // The browser logs the refused request itself; nothing else went wrong.
    p.errors.splice(0, p.errors.length, ...p.errors.filter((e) => !/status of 400|answer 400: POST .*\/api\/tracklists$/.test(e)));
  });

  it('explores song, artist and DJ pages, each name linking on, and starts from them', async () => {
    const { page } = await open();
    const { song, dj } = catalogue();
    await page.goto(site + `/songs/${song.id}`);
    await expect.poll(() => page.locator('h1').textContent()).toContain(song.name);
    await expect.poll(() => page.locator('section.card .row').count()).toBeGreaterThan(0);
    await screenshot(page, 'desktop-song');
    await page.locator('.facts a').first().click();
    await expect.poll(() => page.url()).toContain('/artists/');
    await expect.poll(() => page.locator('.kicker').textContent()).toBe('Artist');
    await expect.poll(() => page.locator('section.card').first().locator('.row').count()).toBeGreaterThan(0);
    await screenshot(page, 'desktop-artist');
    await page.goto(site + `/djs/${dj.id}`);
    await expect.poll(() => page.locator('h1').textContent()).toBe(dj.name);
    await expect.poll(() => page.getByRole('heading', { name: 'Recommended for this DJ' }).locator('xpath=../..').locator('.row').count()).toBeGreaterThan(0);
    await screenshot(page, 'desktop-dj');
    await page.getByRole('button', { name: 'Generate as this DJ' }).click();
    await expect.poll(() => page.locator('#dj').inputValue()).toBe(dj.name);
    await page.goto(site + `/songs/${song.id}`);
    await page.getByRole('button', { name: 'Generate from this song' }).click();
    await expect.poll(() => page.locator('#seed').inputValue()).toBe(song.name);
    await page.goto(site + '/docs');
    await expect.poll(() => page.locator('.op').count()).toBeGreaterThan(20);
    await page.locator('.op-head', { hasText: '/api/tracklists' }).first().click();
    await expect.poll(() => page.locator('.op-body').first().textContent()).toContain('seedSong');
    await screenshot(page, 'desktop-docs');
  });

  it('signs in, likes songs, imports a list, recommends from the likes, saves, renames, exports and deletes', async () => {
    const { page } = await open();
    const { song } = catalogue();
    await page.goto(site + '/account');
    await page.getByRole('link', { name: 'Sign in' }).last().click();
    await page.locator('#name').fill('Dee Jay');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.url()).toBe(site + '/account');
    await expect.poll(() => page.locator('h1').textContent()).toBe('Dee Jay');
    await expect.poll(() => page.locator('.account').textContent()).toContain('Like a few songs to get recommendations.');

    // Like from a song row.
    await page.goto(site + `/songs/${song.id}`);
    await page.getByRole('button', { name: `Like ${song.name}`, exact: true }).click();
    await expect.poll(() => page.getByRole('button', { name: `Unlike ${song.name}`, exact: true }).count()).toBe(1);
    await page.locator('header.top').getByRole('link', { name: 'Dee Jay' }).click();
    await expect.poll(() => page.locator('.likes .row').count()).toBe(1);
    const recsSection = page.getByRole('heading', { name: 'Recommended for me' }).locator('xpath=../..');
    await expect.poll(() => recsSection.locator('.row').count()).toBeGreaterThan(0);
    const recsBefore = await recsSection.locator('.row .title').allTextContents();

    // Import: three known lines and one the catalogue lacks.
    const known = [1, 2, 3].map((i) => stack.model.song(i).name);
    await page.locator('#import-text').fill([...known, 'Nobody Knows - This Record'].join('\n'));
    await page.getByRole('button', { name: 'Match pasted lines' }).click();
    const review = page.getByLabel('Import review');
    await expect.poll(() => review.textContent()).toMatch(/3 matched, 1 not in the catalogue/);
    expect(await review.locator('.unmatched').textContent()).toContain('Line 4: Nobody Knows - This Record');
    await page.getByRole('button', { name: 'Add 3 songs to my likes' }).click();
    await expect.poll(() => page.locator('.likes .row').count()).toBe(4);
    await expect.poll(async () => (await recsSection.locator('.row .title').allTextContents()).join('|')).not.toBe(recsBefore.join('|'));
    // A playlist file: one song, and one entry that is not "Artist - Title" (reported by line).
    const fourth = stack.model.song(4).name;
    await page.locator('input[type=file]').setInputFiles({
      name: 'crate.m3u8',
      mimeType: 'audio/x-mpegurl',
      buffer: Buffer.from(`#EXTM3U\n#EXTINF:312,${fourth}\n/music/a.mp3\n#EXTINF:200,Untitled\n/music/untitled.mp3\n`),
    });
    await expect.poll(() => review.textContent()).toMatch(/From crate\.m3u8: 1 matched, 0 not in the catalogue, 1 lines not read/);
    expect(await review.locator('.problems').textContent()).toMatch(/Line 4: .*Artist - Title/);
    await page.getByRole('button', { name: 'Add 1 songs to my likes' }).click();
    await expect.poll(() => page.locator('.likes .row').count()).toBe(5);
    // A liked song's score is adjustable.
    // Dragging the slider to 0.5 and letting go.
    const slider = page.locator(`#score-${song.id}`);
    await slider.fill('0.5');
    await slider.dispatchEvent('change');
    await expect.poll(() => page.locator('.likes .row', { has: slider }).locator('.num').textContent()).toBe('0.5');
    await expect.poll(async () => (await stack.services.users.getUser('dev-dee-jay'))?.likes.find((l) => l.song === song.id)?.score).toBe(0.5);
    await screenshot(page, 'desktop-account');

    // Generate with my likes and save.
    await page.goto(site + '/');
    await pickSeed(page, song.name);
    await page.getByLabel('My likes').check();
    const body = await generateRequest(page, () => page.locator('#generate').click());
    expect((body.likes as unknown[]).length).toBe(5);
    await page.locator('.track').nth(15).waitFor();
    const ids = await trackIds(page);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('#save-name').fill('Sunrise set');
    await page.getByRole('button', { name: 'Save tracklist' }).click();
    await page.getByRole('link', { name: 'Sunrise set' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Sunrise set');
    expect(await trackIds(page)).toEqual(ids);
    const txt = await download(page, 'Text');
    expect(txt.name).toBe('sunrise-set.txt');
    expect(txt.text.split('\n')[0]).toBe('Sunrise set');
    expect(txt.text).toContain(`01. ${song.name}`);
    await screenshot(page, 'desktop-saved');

    await page.goto(site + '/account');
    await page.getByRole('button', { name: 'Rename Sunrise set' }).click();
    await page.locator('.saved input').fill('Sunset set');
    await page.getByRole('button', { name: 'Rename', exact: true }).click();
    await expect.poll(() => page.locator('.saved .title').allTextContents()).toEqual(['Sunset set']);
    await page.getByRole('button', { name: 'Delete Sunset set' }).click();
    await page.locator('.saved').getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => page.locator('.account').textContent()).toContain('Nothing saved yet');

    // Delete the account: likes gone, signed out.
    await page.getByRole('button', { name: 'Delete my account…' }).click();
    await page.getByRole('button', { name: 'Yes, delete everything' }).click();
    await expect.poll(() => page.url()).toBe(site + '/');
    await expect.poll(() => page.locator('header.top').getByRole('link', { name: 'Sign in' }).count()).toBe(1);
    expect(await stack.services.users.getUser('dev-dee-jay')).toBeNull();
  });

  it('lays out on a 360 px phone without sideways scrolling', async () => {
    const { page } = await open(PHONE);
    const { song, dj } = catalogue();
    await page.goto(site + '/');
    await pickSeed(page, song.name);
    await page.getByText('Advanced steering').click();
    await page.locator('#generate').click();
    await page.locator('.track').nth(15).waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await screenshot(page, 'phone-generate');
    for (const [path, name] of [
      [`/songs/${song.id}`, 'phone-song'],
      [`/djs/${dj.id}`, 'phone-dj'],
      ['/account', 'phone-account'],
      ['/docs', 'phone-docs'],
    ]) {
      await page.goto(site + path);
      await page.locator('h1').waitFor();
      await page.waitForLoadState('networkidle');
      expect(await fitsWidth(page), path).toBe(true);
      await screenshot(page, name);
    }
  });

  it('logs no errors in the browser console on any of these pages', () => {
    expect(pages.flatMap((p) => p.errors)).toEqual([]);
  });
});

describe('web app while no model is published', () => {
  let host: LocalHost;

  afterAll(() => host?.close());

  it('says the model is loading, retries, and works once a version is published', async () => {
    const settings = { ...stack.settings, modelContainer: 'models-late' };
    const registry = BlobModelRegistry.fromSettings(settings);
    const model = new ModelProvider({ registry, refreshSeconds: 1, cacheDir: join(dir, 'late-cache') });
    host = await startLocalHost({ services: { model, users: stack.services.users }, port: 0, logHandler: () => undefined });
    const p = await openPage(browser, DESKTOP);
    const { page } = p;
    await page.goto(host.url.replace(/\/api$/, '') + '/');
    await expect.poll(() => page.locator('footer').textContent()).toContain('No model loaded yet');
    await page.locator('#seed').fill(stack.model.song(0).name.slice(0, 10));
    await expect.poll(() => page.locator('.banner').textContent()).toMatch(/not ready yet .*Retrying in/);
    await screenshot(page, 'desktop-loading');
    await registry.publish(join(dir, 'demo', 'version'), stack.model.versionId);
    await page.getByRole('option').first().waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('.banner').count(), { timeout: 40_000 }).toBe(0);
    await expect.poll(() => page.locator('footer').textContent(), { timeout: 40_000 }).toContain(`Model ${stack.model.versionId}`);
    // Only the 503s the test caused reached the console.
    expect(p.errors.filter((e) => !/status of 503|answer 503: /.test(e))).toEqual([]);
    await p.context.close();
  }, 90_000);
});
