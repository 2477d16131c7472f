'use strict';
// For bench/web-clients.sh: keeps N live pages of the agent open in one
// headless Debian chromium (puppeteer-core from tests/e2e/node_modules), each
// its own browser context (no shared cache or connection), until SIGTERM.
// Prints "ready N" once every page shows a snapshot (its #ifaces data-seq).
//
//   NODE_PATH=tests/e2e/node_modules node bench/web_pages.js URL N
const puppeteer = require('puppeteer-core');

async function main() {
  const [url, count] = [process.argv[2], Number(process.argv[3] || 10)];
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // --no-sandbox: run as root, where chromium's sandbox refuses to start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1280,900'],
    defaultViewport: { width: 1280, height: 900 },
  });
  const stop = async () => {
    await browser.close().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  for (let i = 0; i < count; ++i) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'load', timeout: 60000 });
    await page.waitForFunction(
      () => {
        const main = document.querySelector('#ifaces');
        return main && main.dataset.seq !== '' && main.dataset.seq !== undefined;
      },
      { timeout: 60000, polling: 500 });
  }
  console.log(`ready ${count}`);
}

main().catch((e) => {
  console.error(`web_pages: ${e.message}`);
  process.exit(1);
});
