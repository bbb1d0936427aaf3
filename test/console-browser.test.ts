// The web console in a real browser (issue 15): Debian's chromium, a real
// daemon over a recorded proc root, the link `eventctl ui` prints.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'puppeteer-core';
import { chromiumPath, eventctlUi, freeLoopbackPort, launchChromium, screenshotSpread } from './helpers/browser.js';
import { DaemonProcess } from './helpers/daemon.js';
import { setSwap } from './helpers/proc.js';
import { tempDir, waitFor } from './helpers/tmp.js';

const browser = chromiumPath();

/** Sets an input's value as a person would: focus, select all, type. */
async function type(page: Page, selector: string, text: string): Promise<void> {
  await page.click(selector, { count: 3 });
  await page.keyboard.press('Backspace');
  await page.type(selector, text);
}

test('console: login link, a condition made in the form fires live, the page resumes across a daemon restart', {
  timeout: 240_000,
  skip: browser === undefined ? 'no chromium here (.ci/run installs Debian\'s chromium): the console\'s browser test cannot run' : false,
}, async (t) => {
  const dir = tempDir(t, 'eventd-console-');
  const procRoot = join(dir, 'proc');
  setSwap(procRoot, 40);
  const port = await freeLoopbackPort();
  const daemon = DaemonProcess.withConfig(dir, {
    node: 'n1', dataDir: join(dir, 'data'), procRoot, api: { port }, producers: { PagingSpace: { periodMs: 100 } }, log: { level: 'info' },
  });
  await daemon.start();
  const chromium = await launchChromium(browser!);
  try {
    const page = await chromium.newPage();
    const offsite: string[] = [];
    const consoleErrors: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol !== 'data:' && url.host !== `127.0.0.1:${port}`) offsite.push(request.url());
    });
    page.on('console', (message) => void (message.type() === 'error' ? consoleErrors.push(message.text()) : undefined));

    // Without a session: the prompt, and no data (the console's API calls are refused).
    await page.goto(`${daemon.url}/ui/`);
    await page.waitForSelector('#login-form');
    assert.equal(await page.$('#panels'), null, 'no panels before login');
    const refused = await page.evaluate(async () => (await fetch('/ui/v1/subscriptions')).status);
    assert.equal(refused, 401);

    // The link eventctl prints: one line; following it signs in and drops the code from the address bar.
    const printed = await eventctlUi(daemon.url);
    const lines = printed.trim().split('\n');
    assert.equal(lines.length, 1, `one line of stdout, got ${JSON.stringify(printed)}`);
    const link = new URL(lines[0]!);
    assert.equal(link.origin, daemon.url);
    assert.equal(link.pathname, '/ui/login');
    assert.ok(link.searchParams.get('code'));
    await page.goto(link.toString());
    await page.waitForSelector('#panels');
    const landed = new URL(page.url());
    assert.equal(landed.pathname, '/ui/');
    assert.equal(landed.search, '', 'the login code left the address bar');
    const cookie = (await page.cookies()).find((candidate) => candidate.name === 'eventd_console');
    assert.ok(cookie, 'a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/ui');
    assert.equal(await page.evaluate(() => document.cookie), '', 'no script reads the session');
    // A used code does not sign in twice.
    const again = await fetch(link, { redirect: 'manual' });
    assert.equal(again.headers.get('location'), '/ui/?login=expired');
    assert.equal(again.headers.get('set-cookie'), null);
    await page.waitForSelector('#stream-state[data-state=live]');

    // A bad expression: the server's message, at the expression field.
    await page.waitForSelector('#field-class option[value=PagingSpace]');
    await page.select('#field-class', 'PagingSpace');
    await type(page, '#field-name', 'bad-one');
    await type(page, '#field-expr', 'percentUsed >');
    await page.click('#condition-create');
    const shown = await waitFor('the expression field\'s error', () => page.$eval('#error-expr', (element) => element.textContent ?? '').then((text) => text || undefined));
    const direct = await daemon.request<{ error: { code: string; message: string } }>('POST', '/v1/subscriptions', { name: 'bad-one', class: 'PagingSpace', expr: 'percentUsed >', scope: 'local', order: 'fifo' });
    assert.equal(direct.status, 400);
    assert.equal(direct.body.error.code, 'EVENTD_ERR_BAD_EXPRESSION');
    assert.ok(shown.startsWith(direct.body.error.message), `shown at the field: ${shown}`);
    assert.equal(await page.$eval('#field-expr', (element) => element.getAttribute('aria-invalid')), 'true');
    assert.equal(await page.$eval('#error-name', (element) => element.textContent), '', 'nothing at the other fields');

    // A PagingSpace condition through the form.
    await type(page, '#field-name', 'swap-high');
    await type(page, '#field-expr', 'percentUsed > 80');
    await type(page, '#field-rearm', 'percentUsed < 60');
    await type(page, '#field-where', '$resource = "total"');
    await page.click('#condition-create');
    await page.waitForSelector('[data-subscription=swap-high]');
    assert.equal((await daemon.request<{ subscriptions: { name: string }[] }>('GET', '/v1/subscriptions')).body.subscriptions.map((s) => s.name).join(), 'swap-high');
    await page.waitForSelector('[data-subscription=swap-high] [data-state=armed]');

    // Swap crosses the threshold: the event row appears live, the state turns fired (no reload, no polling of the conditions).
    // A mark on the document: a reload would make a new one without it.
    await page.evaluate(() => document.documentElement.setAttribute('data-console-marker', 'same page'));
    setSwap(procRoot, 90);
    await page.waitForSelector('#event-list [data-event-id].event', { timeout: 20_000 });
    await page.waitForSelector('[data-subscription=swap-high] [data-resource=total][data-state=fired]', { timeout: 20_000 });
    const fired = await page.$eval('#event-list [data-event-id].event', (element) => element.getAttribute('data-event-id'));
    const stored = (await daemon.request<{ events: { id: string; type: string }[] }>('GET', '/v1/events')).body.events;
    assert.deepEqual(stored.map((event) => event.id), [fired]);

    // A row opens its full JSON, from the keyboard: arrow keys along the tabs, Enter on the row.
    await page.focus('#tab-conditions');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'tab-events');
    await page.waitForSelector(`[data-event-id="${fired}"] summary`, { visible: true });
    await page.focus(`[data-event-id="${fired}"] summary`);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`[data-event-id="${fired}"] pre`, { visible: true });
    const json = await page.$eval(`[data-event-id="${fired}"] pre`, (element) => JSON.parse(element.textContent ?? '{}') as { id: string; subscriptionName: string; attrs: { percentUsed: number } });
    assert.equal(json.id, fired);
    assert.equal(json.subscriptionName, 'swap-high');
    assert.ok(json.attrs.percentUsed > 80);

    // The daemon restarts: the page says so, then resumes on the same stream position, without a reload.
    await daemon.stop();
    await page.waitForSelector('#stream-state[data-state=reconnecting]', { timeout: 20_000 });
    await daemon.start();
    await page.waitForSelector('#stream-state[data-state=live]', { timeout: 30_000 });
    setSwap(procRoot, 40);
    await page.waitForSelector('#event-list [data-event-id].rearm', { timeout: 20_000 });
    await page.waitForSelector('[data-subscription=swap-high] [data-resource=total][data-state=armed]', { timeout: 20_000 });
    assert.equal(await page.evaluate(() => document.documentElement.getAttribute('data-console-marker')), 'same page', 'no reload');
    const rows = await page.$$eval('#event-list [data-event-id]', (elements) => elements.map((element) => element.getAttribute('data-event-id')));
    const all = (await daemon.request<{ events: { id: string }[] }>('GET', '/v1/events')).body.events.map((event) => event.id);
    assert.equal(all.length, 2);
    assert.deepEqual(rows, [...all].reverse(), 'each event once, newest first');

    // Something is drawn: the Resources panel's table and chart with the threshold line.
    await page.click('#tab-resources');
    await page.waitForSelector('#resource-chart canvas', { timeout: 20_000 });
    assert.equal(await page.$eval('#resource-chart', (element) => element.getAttribute('data-lines')), 'threshold:80,rearm:60');
    const png = await page.screenshot({ type: 'png', fullPage: true });
    const spread = await screenshotSpread(page, png);
    assert.ok(spread.colours > 16 && spread.inked > 0.05, `the screenshot is not blank: ${JSON.stringify(spread)}`);

    assert.deepEqual(offsite, [], 'every request went to the daemon');
    assert.deepEqual(consoleErrors.filter((text) => !/Failed to load resource|ERR_CONNECTION_REFUSED|net::/.test(text)), [], 'no script errors');
  } finally {
    await chromium.close();
    await daemon.stop();
  }
});
