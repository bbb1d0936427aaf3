#!/usr/bin/env node
// Screenshots of every console panel for docs/ (README "Console"): starts the
// three-node demo (npm run demo), signs in with the link `eventctl ui` prints,
// creates a condition from a preset in the form, moves n1's recorded swap
// across it, silences n2's, opens a failover move's confirmation, and
// photographs each panel at 1280x800 and one at phone width.
// Usage: npm run build && node scripts/console-screenshots.mjs [OUT_DIR]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const outDir = process.argv[2] ?? 'docs';
const api = 'http://127.0.0.1:7101';
mkdirSync(outDir, { recursive: true });
rmSync('examples/cluster-3/run', { recursive: true, force: true });
const demo = spawn(process.execPath, ['examples/cluster-3/run.mjs'], { stdio: 'ignore' });
const deadline = (ms) => Date.now() + ms;
async function until(what, check, ms = 30_000) {
  const end = deadline(ms);
  for (;;) {
    try { if (await check()) return; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
const ctl = (...args) => execFileSync(process.execPath, ['bin/eventctl', '--api', api, ...args], { encoding: 'utf8' });
let browser;
try {
  await until('the demo', async () => (await fetch(`${api}/healthz`)).ok);
  // The API asks for a token even on loopback: n1 generated one into its data folder at first start.
  const auth = { authorization: `Bearer ${readFileSync('examples/cluster-3/run/n1/data/api-token', 'utf8').trim()}` };
  await until('three members', async () => (await (await fetch(`${api}/v1/members`, { headers: auth })).json()).members.filter((m) => m.state !== 'down').length === 3);
  // An action, so the Actions panel has a run to show.
  await fetch(`${api}/v1/subscriptions`, {
    method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'swap-notify', class: 'PagingSpace', where: '$resource = "total"', expr: 'percentUsed > 75', rearm: 'percentUsed < 60', actions: [{ run: '/bin/echo', args: ['swap is high on', '$EVENTD_NODE'], timeout: '5s' }] }),
  });
  const link = ctl('ui').trim();
  browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'], defaultViewport: { width: 1280, height: 800 } });
  const page = await browser.newPage();
  await page.goto(`${api}/ui/`);
  await page.waitForSelector('#login-form');
  await page.screenshot({ path: join(outDir, 'console-login.png') });
  await page.goto(link);
  await page.waitForSelector('#stream-state[data-state=live]');
  await page.waitForSelector('#preset-picker option[value=paging-space-low]');
  await page.select('#preset-picker', 'paging-space-low');
  await page.select('#field-scope', 'cluster');
  await page.click('#condition-create');
  await page.waitForSelector('[data-subscription=paging-space-low]');
  execFileSync('sh', ['examples/cluster-3/set-swap.sh', 'n1', '95']);
  await page.waitForSelector('[data-subscription=paging-space-low] [data-state=fired]', { timeout: 30_000 });
  await page.waitForSelector('[data-subscription=swap-notify] [data-state=fired]', { timeout: 30_000 });
  await page.screenshot({ path: join(outDir, 'console-conditions.png') });
  // A silence made in the form mutes n2's crossing: the Events and Silences panels show it.
  await page.click('#tab-silences');
  await page.type('#silence-subscription', 'paging-space-low');
  await page.type('#silence-node', 'n2');
  await page.type('#silence-comment', 'n2: swap disk being replaced');
  await page.click('#silence-create');
  await page.waitForSelector('#silences-body tr[data-state=active]');
  execFileSync('sh', ['examples/cluster-3/set-swap.sh', 'n2', '95']);
  await page.waitForSelector('#silences-body [data-muted="1"]', { timeout: 30_000 });
  // The confirmation a failover control asks for, then cancelled.
  await page.click('#tab-failover');
  await page.waitForSelector('#groups-table [data-group]');
  await page.select('#control-group', 'demo-service');
  await page.select('#control-node', 'n2');
  await page.click('#control-move');
  await page.waitForSelector('#confirm-dialog[open]');
  await page.screenshot({ path: join(outDir, 'console-failover-confirm.png') });
  await page.keyboard.press('Escape');
  for (const panel of ['cluster', 'events', 'resources', 'actions', 'failover', 'silences']) {
    await page.click(`#tab-${panel}`);
    if (panel === 'resources') await page.waitForSelector('#resource-chart canvas', { timeout: 20_000 });
    if (panel === 'cluster') await page.waitForSelector('#members-table');
    if (panel === 'failover') await page.waitForSelector('#groups-table');
    if (panel === 'actions') await page.waitForSelector('#actions-table td .badge');
    if (panel === 'events') await page.click('#event-list [data-event-id] summary');
    await new Promise((resolve) => setTimeout(resolve, 700)); // let the panel's first fetch paint
    await page.screenshot({ path: join(outDir, `console-${panel}.png`) });
  }
  await page.setViewport({ width: 390, height: 844, isMobile: true });
  // A change to isMobile reloads the page: wait for the panels again.
  await page.waitForSelector('#tab-conditions');
  await page.click('#tab-conditions');
  await new Promise((resolve) => setTimeout(resolve, 700));
  await page.screenshot({ path: join(outDir, 'console-phone.png') });
  console.log(`screenshots in ${outDir}/`);
} finally {
  await browser?.close();
  demo.kill('SIGTERM');
}
