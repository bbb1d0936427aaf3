// The console's operator panels in a real browser (issue 15): Debian's
// chromium, real daemons. Silences: one made in the form mutes a crossing's
// action (the event is still shown, marked), is expired from the page, and
// the next crossing runs again. Failover, on three daemons: standby, a move
// the daemon refuses (its message shown), a move that lands (GET /v1/groups
// on another node says so), clear and the other controls; each confirmed in
// a dialog first. And the Done-when's path: a condition from a preset fires
// live and is charted with its threshold.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { chromiumPath, eventctlUi, freeLoopbackPort, launchChromium } from './helpers/browser.js';
import { startCluster } from './helpers/cluster.js';
import { DaemonProcess } from './helpers/daemon.js';
import type { GroupsBody } from './helpers/failover-lab.js';
import { loggingGroupScript, holdingsOf } from './helpers/failover-lab.js';
import { test } from './helpers/node-test.js';
import { setSwap } from './helpers/proc.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';
import type { Hooks } from './helpers/cleanup.js';

const browser = chromiumPath();
const skip = browser === undefined ? 'no chromium here (.ci/run installs Debian\'s chromium): the console\'s browser tests cannot run' : false;

async function type(page: Page, selector: string, text: string): Promise<void> {
  await page.click(selector, { count: 3 });
  await page.keyboard.press('Backspace');
  if (text !== '') await page.type(selector, text);
}

async function signedIn(t: Hooks, url: string): Promise<{ chromium: Browser; page: Page; scriptErrors: string[] }> {
  const chromium = await launchChromium(browser!);
  defer(t, () => chromium.close(), 'close chromium');
  const page = await chromium.newPage();
  const scriptErrors: string[] = [];
  page.on('pageerror', (error) => void scriptErrors.push(String(error)));
  await page.goto((await eventctlUi(url)).trim());
  await page.waitForSelector('#stream-state[data-state=live]');
  return { chromium, page, scriptErrors };
}

/**
 * Clicks a button in a polled table: the row may be made again between
 * finding it and clicking it (its data changed), and then it is found again.
 * A click that failed was never dispatched, so trying again sends one.
 */
async function clickLive(page: Page, selector: string): Promise<void> {
  await waitFor(`a click on ${selector}`, () => page.click(selector).then(() => true), 15_000, 100);
}

const text = (page: Page, selector: string) => page.$eval(selector, (element) => element.textContent ?? '');

/** Opens the confirmation of a control and answers it: the dialog must be shown, naming what happens. */
async function answer(page: Page, yes: boolean, says: RegExp): Promise<void> {
  await page.waitForSelector('#confirm-dialog[open]');
  assert.match(await text(page, '#confirm-dialog'), says);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'confirm-cancel', 'focus starts on Cancel: a stray Enter sends nothing');
  if (yes) await page.click('#confirm-ok');
  else await page.keyboard.press('Escape');
  await page.waitForSelector('#confirm-dialog[open]', { hidden: true });
}

test('console silences: made in the form, it mutes a crossing\'s action (the event still shows, marked); expired from the page, the next crossing runs', { timeout: 240_000, skip }, async (t) => {
  const dir = tempDir(t, 'eventd-console-silences-');
  const procRoot = join(dir, 'proc');
  setSwap(procRoot, 40);
  const ran = join(dir, 'ran.log');
  const script = join(dir, 'notify.sh');
  writeFileSync(script, `#!/bin/sh\necho "$EVENTD_EVENT_ID $EVENTD_EVENT_TYPE" >> "${ran}"\n`);
  chmodSync(script, 0o755);
  const port = await freeLoopbackPort();
  const daemon = DaemonProcess.withConfig(dir, { node: 'n1', dataDir: join(dir, 'data'), procRoot, api: { port }, producers: { PagingSpace: { periodMs: 100 } }, log: { level: 'info' } }, t);
  await daemon.start();
  const made = await daemon.request('POST', '/v1/subscriptions', {
    name: 'swap-high', class: 'PagingSpace', where: '$resource = "total"', expr: 'percentUsed > 80', rearm: 'percentUsed < 60', actions: [{ run: script, timeout: '5s' }],
  });
  assert.equal(made.status, 201);
  const { page, scriptErrors } = await signedIn(t, daemon.url);
  await page.click('#tab-silences');
  await page.waitForSelector('#silences-table .empty');

  // Nothing filled: the form says what is missing at each field, and sends nothing.
  await type(page, '#silence-duration', '');
  await page.click('#silence-create');
  await page.waitForFunction(() => (document.getElementById('silence-error-matchers')?.textContent ?? '') !== '');
  assert.match(await text(page, '#silence-error-comment'), /comment/);
  assert.match(await text(page, '#silence-error-duration'), /duration/);
  assert.equal((await daemon.request<{ silences: unknown[] }>('GET', '/v1/silences')).body.silences.length, 0);

  // A duration the daemon refuses: its own message, at the duration field.
  await type(page, '#silence-subscription', 'swap-high');
  await type(page, '#silence-duration', '2 fortnights');
  await type(page, '#silence-comment', 'swap disk being replaced');
  await page.click('#silence-create');
  const shown = await waitFor('the duration error', () => text(page, '#silence-error-duration').then((message) => message || undefined));
  const direct = await daemon.request<{ error: { code: string; message: string } }>('POST', '/v1/silences', { matchers: { subscription: 'swap-high' }, duration: '2 fortnights', comment: 'x' });
  assert.equal(direct.status, 400);
  assert.equal(direct.body.error.code, 'EVENTD_ERR_BAD_SILENCE');
  assert.equal(shown, direct.body.error.message);
  assert.equal(await page.$eval('#silence-duration', (element) => element.getAttribute('aria-invalid')), 'true');

  // Made: listed on the page and by the API, as the console's.
  await type(page, '#silence-duration', '10m');
  await page.click('#silence-create');
  await page.waitForSelector('#silences-body tr[data-silence][data-state=active]');
  const listed = (await daemon.request<{ silences: { id: string; matchers: Record<string, string>; createdBy: string; state: string }[] }>('GET', '/v1/silences')).body.silences;
  assert.equal(listed.length, 1);
  const silence = listed[0]!;
  assert.deepEqual(silence.matchers, { subscription: 'swap-high' });
  assert.equal(silence.createdBy, 'console');
  assert.equal(await page.$eval('#silences-body tr[data-silence]', (element) => element.getAttribute('data-silence')), silence.id);

  // A crossing while silenced: the event is logged and shown, marked silenced; its action is skipped, naming the silence.
  setSwap(procRoot, 90);
  await page.waitForSelector(`[data-silence="${silence.id}"] [data-muted="1"]`, { timeout: 20_000 });
  const events = async () => (await daemon.request<{ events: { id: string; type: string; silenced?: string }[] }>('GET', '/v1/events')).body.events;
  const muted = (await events())[0]!;
  assert.equal(muted.silenced, silence.id);
  await page.click('#tab-events');
  await page.waitForSelector(`#event-list [data-event-id="${muted.id}"][data-silenced="${silence.id}"] .badge.silenced`);
  await page.click('#tab-actions');
  await page.waitForSelector('#actions-table td[data-status=skipped][data-reason=silenced]', { timeout: 20_000 });
  assert.match(await text(page, '#actions-table td[data-status=skipped]'), new RegExp(`silenced ${silence.id}`));
  assert.equal(existsSync(ran), false, 'the muted action did not run');

  // Expire: Escape on the confirmation sends nothing; confirmed, the silence ends on the daemon and leaves the list.
  await page.click('#tab-silences');
  await clickLive(page, `[data-silence="${silence.id}"] button`);
  await answer(page, false, /responses again/);
  // The dialog's close event comes a task after it is hidden: wait for what the page says.
  await page.waitForFunction(() => /cancelled, nothing was sent/.test(document.getElementById('silences-message')?.textContent ?? ''));
  assert.equal((await daemon.request<{ silences: unknown[] }>('GET', '/v1/silences')).body.silences.length, 1, 'still active');
  await clickLive(page, `[data-silence="${silence.id}"] button`);
  await answer(page, true, /swap-high/);
  await page.waitForSelector('#silences-table .empty');
  assert.equal((await daemon.request<{ silences: unknown[] }>('GET', '/v1/silences')).body.silences.length, 0);
  await page.click('#silences-expired');
  await page.waitForSelector(`[data-silence="${silence.id}"][data-state=expired]`);

  // The next crossings are not muted: the script runs and the page shows it ran.
  setSwap(procRoot, 40);
  await waitFor('the rearm', async () => (await events()).some((event) => event.type === 'rearm'), 20_000);
  setSwap(procRoot, 90);
  const next = await waitFor('the next event', async () => (await events()).find((event) => event.type === 'event' && event.id !== muted.id), 20_000);
  assert.equal(next.silenced, undefined);
  await waitFor('the action to run for it', () => existsSync(ran) && readFileSync(ran, 'utf8').includes(`${next.id} event`), 20_000);
  await page.click('#tab-actions');
  await page.waitForSelector('#actions-table td[data-status=ok]', { timeout: 20_000 });

  // "Silence like this" on an event fills the silence form from it and shows the Silences panel.
  await page.click('#tab-events');
  await clickLive(page, `[data-event-id="${next.id}"] summary`);
  await clickLive(page, `[data-event-id="${next.id}"] button.silence-like`);
  await page.waitForSelector('#panel-silences:not([hidden])');
  const filled = await page.$$eval('#silence-form input', (inputs) => Object.fromEntries(inputs.map((input) => [input.name, input.value])));
  assert.deepEqual(filled, { subscription: 'swap-high', class: '', node: 'n1', resource: 'total', duration: '10m', comment: '' });
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'silence-comment', 'the comment is what is left to say');
  assert.deepEqual(scriptErrors, []);
});

test('console failover: standby and unstandby, a refused move says why and changes nothing, a move lands everywhere, clear, ban, cleanup, unmanage and manage, maintenance', { timeout: 240_000, skip }, async (t) => {
  const dir = tempDir(t, 'eventd-console-failover-');
  const { script, log } = loggingGroupScript(dir);
  const nodes = await startCluster(dir, ['n1', 'n2', 'n3'], { t, extra: {
    // A lease long enough that a loaded machine never lapses it: these steps are about the controls, not fencing.
    failover: { leaseMs: 4000, stopBudgetMs: 1000, groups: [{ name: 'web', start: script, stop: script, prefer: ['n1'], timeout: '5s' }] },
  } });
  const [n1, n2] = nodes.map((node) => node.daemon) as [DaemonProcess, DaemonProcess];
  const groups = async (daemon: DaemonProcess) => (await daemon.request<GroupsBody>('GET', '/v1/groups')).body;
  const runningOn = () => holdingsOf(log).filter((holding) => holding.to === Infinity).map((holding) => holding.node).join();
  await waitFor('web running on n1', () => runningOn() === 'n1', 30_000);

  const { page, scriptErrors } = await signedIn(t, n1.url);
  // The Cluster panel: the three members, quorum, and the view's history in words.
  await page.click('#tab-cluster');
  await page.waitForSelector('#members-table [data-member=n3]');
  assert.deepEqual(await page.$$eval('#members-table [data-member]', (rows) => rows.map((row) => row.getAttribute('data-member'))), ['n1', 'n2', 'n3']);
  assert.equal(await text(page, '#quorum'), 'quorum');
  await page.waitForFunction(() => [...document.querySelectorAll('#panel-cluster ul.history li')].some((li) => /^\d\d:\d\d:\d\d up n[123] \(reported by n[123]\)$/.test(li.textContent ?? '')));
  await page.click('#tab-failover');
  await page.waitForSelector('#groups-table [data-group=web] [data-owner=n1]');
  await page.waitForSelector('#failover-nodes [data-node=n3]');

  // A poll that finds the same data leaves the rows and the pickers' options as they are (a click or an open list survives it).
  const row = await page.$('#failover-nodes [data-node=n3]');
  const option = await page.$('#control-node option[value=n3]');
  for (let polls = 0; polls < 2; polls++) await page.waitForResponse((response) => new URL(response.url()).pathname === '/ui/v1/groups', { timeout: 15_000 });
  assert.equal(await row!.evaluate((element) => element.isConnected), true, 'the row was kept');
  assert.equal(await option!.evaluate((element) => element.isConnected), true, 'the option was kept');

  // Standby n2 from the page: confirmed, then every node knows it.
  await clickLive(page, '#failover-nodes [data-node=n2] button');
  await answer(page, true, /Every group running on n2 is stopped there/);
  await waitFor('n2 in standby on n2', async () => (await groups(n2)).standby.includes('n2'), 15_000);
  await page.waitForSelector('#failover-nodes [data-node=n2] [data-standby=true]');

  // A move to the standby node: the daemon refuses it; the page shows its message and code; nothing changed.
  await page.select('#control-group', 'web');
  await page.select('#control-node', 'n2');
  await page.click('#control-move');
  await answer(page, true, /web is stopped where it runs and started on n2/);
  const refusal = await waitFor('the refusal', () => text(page, '#failover-error').then((message) => message || undefined));
  const direct = await n1.request<{ error: { code: string; message: string } }>('POST', '/v1/groups/web/move', { node: 'n2' });
  assert.ok(direct.status >= 400 && direct.status < 500, `a refusal, got ${direct.status}`);
  assert.equal(direct.body.error.code, 'EVENTD_ERR_UNSATISFIABLE');
  assert.equal(refusal, `Move web to n2: ${direct.body.error.message} (EVENTD_ERR_UNSATISFIABLE)`);
  assert.match(refusal, /n2 is in standby/);
  assert.deepEqual((await groups(n1)).groups[0]!.constraints, []);
  const moves = async () => (await n1.request<{ events: { attrs: { action: string } }[] }>('GET', '/v1/events?class=FailoverControl')).body.events.filter((event) => event.attrs.action === 'move');
  assert.equal((await moves()).length, 0, 'no move was recorded');

  // Unstandby n2; a move cancelled at its confirmation sends nothing.
  await clickLive(page, '#failover-nodes [data-node=n2] button');
  await answer(page, true, /may run groups again/);
  await waitFor('n2 out of standby on n2', async () => !(await groups(n2)).standby.includes('n2'), 15_000);
  await page.select('#control-node', 'n3');
  await page.click('#control-move');
  await answer(page, false, /started on n3/);
  await page.waitForFunction(() => /cancelled, nothing was sent/.test(document.getElementById('failover-message')?.textContent ?? ''));
  assert.equal((await moves()).length, 0);

  // The move confirmed: GET /v1/groups on another node shows it, the group runs on n3, the page shows its owner and constraint.
  await type(page, '#control-lifetime', '30m');
  await page.click('#control-move');
  await answer(page, true, /started on n3; it stays there for 30m/);
  await page.waitForFunction(() => /Move web to n3: done \(agreed event n1:\d+\)/.test(document.getElementById('failover-message')?.textContent ?? ''));
  const moved = await waitFor('the move on n2', async () => ((await groups(n2)).groups[0]!.constraints.find((constraint) => constraint.kind === 'move')), 15_000);
  assert.equal(moved.node, 'n3');
  assert.ok(moved.expiresAt !== null && moved.expiresAt > Date.now() + 25 * 60_000, 'for 30 minutes');
  await waitFor('web on n3', async () => (await groups(n2)).groups[0]!.owner === 'n3' && runningOn() === 'n3', 20_000);
  await page.waitForSelector('#groups-table [data-group=web] [data-owner=n3]', { timeout: 15_000 });
  assert.match(await text(page, '#groups-table [data-group=web] .constraints'), /^move n3 until /);

  // Clear from the row: the constraint goes everywhere, the group stays where it runs.
  await clickLive(page, '#groups-table [data-group=web] button[aria-label="Clear web"]');
  await answer(page, true, /stays where it runs now/);
  await waitFor('the move cleared on n2', async () => (await groups(n2)).groups[0]!.constraints.length === 0, 15_000);
  await page.waitForFunction(() => document.querySelector('#groups-table [data-group=web] .constraints')?.textContent === 'none');
  assert.equal(runningOn(), 'n3');

  // The other buttons, each confirmed and seen by another node: ban (from the form), cleanup, unmanage and manage, maintenance on and off.
  const web = async () => (await groups(n2)).groups[0]!;
  await page.select('#control-node', 'n1');
  await type(page, '#control-lifetime', '1h');
  await page.click('#control-ban');
  await answer(page, true, /web never runs on n1 for 1h/);
  await waitFor('the ban on n2', async () => (await web()).constraints.some((constraint) => constraint.kind === 'ban' && constraint.node === 'n1'), 15_000);
  await page.waitForFunction(() => /^ban n1 until /.test(document.querySelector('#groups-table [data-group=web] .constraints')?.textContent ?? ''));
  await clickLive(page, '#groups-table [data-group=web] button[aria-label="Cleanup web"]');
  await answer(page, true, /fail counts on every node are reset/);
  await page.waitForFunction(() => /Clean up web: done/.test(document.getElementById('failover-message')?.textContent ?? ''));
  await clickLive(page, '#groups-table [data-group=web] button[aria-label="Unmanage web"]');
  await answer(page, true, /No start or stop script runs for web/);
  await waitFor('web unmanaged on n2', async () => !(await web()).managed, 15_000);
  await page.waitForSelector('#groups-table [data-group=web] button[aria-label="Manage web"]');
  await clickLive(page, '#groups-table [data-group=web] button[aria-label="Manage web"]');
  await answer(page, true, /Failover takes web back/);
  await waitFor('web managed on n2', async () => (await web()).managed, 15_000);
  await page.waitForSelector('#maintenance-state[data-on=false]');
  await clickLive(page, '#maintenance-toggle');
  await answer(page, true, /No failover script runs anywhere/);
  await waitFor('maintenance on n2', async () => (await groups(n2)).maintenance, 15_000);
  await page.waitForSelector('#maintenance-state[data-on=true]');
  await clickLive(page, '#maintenance-toggle');
  await answer(page, true, /Failover acts again/);
  await waitFor('maintenance off on n2', async () => !(await groups(n2)).maintenance, 15_000);
  await page.waitForSelector('#maintenance-state[data-on=false]');
  assert.equal(runningOn(), 'n3', 'none of these moved web');
  assert.ok(await page.$('#failover-history li'), 'the history lists the controls');
  // Every control the page sent, the refused one too, is in the audit as the console's.
  const audit = (await n1.request<{ entries: { who: string; method: string; path: string; status: number }[] }>('GET', '/v1/audit?who=console')).body.entries;
  assert.deepEqual(
    audit.map((entry) => `${entry.method} ${entry.path} ${entry.status}`).reverse(),
    [
      'POST /v1/failover/nodes/n2/standby 200', 'POST /v1/groups/web/move 409', 'POST /v1/failover/nodes/n2/unstandby 200', 'POST /v1/groups/web/move 200', 'POST /v1/groups/web/clear 200',
      'POST /v1/groups/web/ban 200', 'POST /v1/groups/web/cleanup 200', 'POST /v1/groups/web/unmanage 200', 'POST /v1/groups/web/manage 200', 'POST /v1/failover/maintenance 200', 'POST /v1/failover/maintenance 200',
    ],
  );
  assert.deepEqual(scriptErrors, []);
});

test('console preset (the Done-when path): paging-space-low from the preset picker fires live and is charted with its threshold and rearm', { timeout: 180_000, skip }, async (t) => {
  const dir = tempDir(t, 'eventd-console-preset-');
  const procRoot = join(dir, 'proc');
  setSwap(procRoot, 40);
  const port = await freeLoopbackPort();
  const daemon = DaemonProcess.withConfig(dir, { node: 'n1', dataDir: join(dir, 'data'), procRoot, api: { port }, producers: { PagingSpace: { periodMs: 100 } }, log: { level: 'info' } }, t);
  await daemon.start();
  const { page, scriptErrors } = await signedIn(t, daemon.url);
  await page.waitForSelector('#preset-picker option[value=paging-space-low]');
  await page.select('#preset-picker', 'paging-space-low');
  const preset = (await daemon.request<{ subscription: { expr: string; rearm: string; where: string } }>('GET', '/v1/presets/paging-space-low')).body.subscription;
  assert.equal(await page.$eval('#field-expr', (element) => (element as HTMLInputElement).value), preset.expr);
  assert.equal(await page.$eval('#field-where', (element) => (element as HTMLInputElement).value), preset.where);
  await page.click('#condition-create');
  await page.waitForSelector('[data-subscription=paging-space-low]');
  setSwap(procRoot, 95);
  await page.waitForSelector('[data-subscription=paging-space-low] [data-resource=total][data-state=fired]', { timeout: 20_000 });
  await page.waitForSelector('#event-list [data-event-id].event', { timeout: 20_000 });
  await page.click('#tab-resources');
  await page.waitForSelector('#resource-chart canvas', { timeout: 20_000 });
  assert.equal(await page.$eval('#resource-chart', (element) => element.getAttribute('data-lines')), 'threshold:90,rearm:85');
  assert.deepEqual(scriptErrors, []);
});
