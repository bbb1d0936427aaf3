// Debian's chromium driven by puppeteer-core, for the console's real-browser test.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { packageRoot } from '../../services/eventd/paths.js';

const candidates = [process.env['CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((path): path is string => path !== undefined && path !== '');

/** The browser to drive, or undefined where none is installed (the test then skips, saying so). */
export function chromiumPath(): string | undefined {
  return candidates.find((path) => existsSync(path));
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath,
    headless: true,
    // Root in a container has no user namespace for chromium's sandbox; the pages are our own, on loopback.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--no-default-browser-check', '--window-size=1280,800'],
    defaultViewport: { width: 1280, height: 800 },
    timeout: 60_000,
  });
}

/** A free TCP port on 127.0.0.1: the console test restarts its daemon on the same address. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What `bin/eventctl ui` printed: its one line of stdout. */
export async function eventctlUi(api: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(packageRoot, 'bin', 'eventctl'), '--api', api, 'ui'], {
    env: { ...process.env, ...env },
    timeout: 20_000,
  });
  return stdout;
}

/**
 * How much of a PNG screenshot is not the page's background, decoded by the
 * browser itself (a blank or one-colour page has a handful of colours).
 */
export async function screenshotSpread(page: Page, png: Uint8Array): Promise<{ colours: number; inked: number }> {
  const probe = await page.browser().newPage();
  try {
    const base64 = Buffer.from(png).toString('base64');
    return await probe.evaluate(async (data: string) => {
      const image = new Image();
      image.src = `data:image/png;base64,${data}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d');
      if (!context) throw new Error('no 2d context');
      context.drawImage(image, 0, 0);
      const pixels = context.getImageData(0, 0, image.width, image.height).data;
      const counts = new Map<number, number>();
      for (let i = 0; i < pixels.length; i += 4) {
        const key = (pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const background = Math.max(...counts.values());
      return { colours: counts.size, inked: 1 - background / (pixels.length / 4) };
    }, base64);
  } finally {
    await probe.close();
  }
}
