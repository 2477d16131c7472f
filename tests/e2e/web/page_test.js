'use strict';
// The live page in a real browser (Debian's chromium, headless), against
// stream_server.js until the agent serves it: for each transport (SSE, and
// WebSocket when /events is missing) the page must show exactly the numbers
// of the NDJSON line of the same seq, an interface that appears must show up
// and one that goes must vanish, and the page must raise no script error.
// Screenshots of both moments go to --out.
//
//   node page_test.js --web DIR [--out DIR] [--chromium PATH]
//
// Exit 0 passed, 1 failed, 77 skipped (no chromium or puppeteer-core).
const fs = require('fs');
const path = require('path');
const { startServer } = require('./stream_server');
const { launch, capture, compare } = require('./page_probe');

const INTERVAL_MS = 150;
const APPEARS = 8; // seq at which veth-new joins
const VANISHES = 22; // ... and leaves

// Snapshots in the agent's format: totals that grow, rates with and without
// decimals, a 64-bit-scale total, the seq-0 baseline with rates 0.
function netdevLines(count) {
  const lines = [];
  const tot = { lo: [0, 0, 0, 0], eth0: [5e12, 4e9, 7e11, 9e8], 'veth-new': [0, 0, 0, 0] };
  for (let seq = 0; seq < count; seq++) {
    const interfaces = {};
    const add = (name, ifindex, bps, pps) => {
      const t = tot[name];
      const interval = seq === 0 ? 0 : INTERVAL_MS;
      const rxB = Math.round((bps * interval) / 8000), rxP = Math.round((pps * interval) / 1000);
      t[0] += rxB; t[1] += rxP; t[2] += Math.round(rxB / 3); t[3] += Math.round(rxP / 2);
      const rate = (bytes, ms, mul) => (ms ? Math.round(((bytes * mul * 1000) / ms) * 1000) / 1000 : 0);
      interfaces[name] = {
        ifindex, rx_bytes: t[0], rx_packets: t[1], tx_bytes: t[2], tx_packets: t[3],
        rx_bps: rate(rxB, interval, 8), tx_bps: rate(Math.round(rxB / 3), interval, 8),
        rx_pps: rate(rxP, interval, 1), tx_pps: rate(Math.round(rxP / 2), interval, 1),
      };
    };
    add('lo', 1, 1000 + 37 * seq, 3 + (seq % 4));
    add('eth0', 2, 9.5e9 + 1e8 * Math.sin(seq), 8e5 + 1234.5 * seq);
    if (seq >= APPEARS && seq < VANISHES) add('veth-new', 7, seq === APPEARS ? 0 : 2e6 * (seq - APPEARS), 150 * (seq - APPEARS));
    lines.push(JSON.stringify({ source: 'netdev', seq, ts_ms: 1764160000000 + seq * INTERVAL_MS, interval_ms: seq ? INTERVAL_MS : 0, interfaces }));
  }
  return lines;
}

function compareLines(count) {
  const lines = [];
  for (let seq = 0; seq < count; seq++) {
    const c = { rx_bytes: 3836 * seq, rx_packets: 8 * seq, tx_bytes: 1918 * seq, tx_packets: 4 * seq };
    const mismatch = seq >= 3 && seq <= 6;
    const proc = mismatch ? { ...c, rx_packets: c.rx_packets - 1 } : c;
    const delta = { rx_bytes: 0, rx_packets: c.rx_packets - proc.rx_packets, tx_bytes: 0, tx_packets: 0 };
    lines.push(JSON.stringify({ source: 'compare', seq, ts_ms: 1764160000000 + seq * INTERVAL_MS, interval_ms: seq ? INTERVAL_MS : 0,
      interfaces: { va: { ifindex: 3, bpf: c, proc, delta, match: !mismatch } } }));
  }
  return lines;
}

function parseArgs(argv) {
  const a = { out: null, chromium: undefined };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--web') a.web = argv[i + 1];
    else if (argv[i] === '--out') a.out = argv[i + 1];
    else if (argv[i] === '--chromium') a.chromium = argv[i + 1];
    else throw new Error(`unknown option '${argv[i]}'`);
  }
  if (!a.web) throw new Error('need --web DIR');
  return a;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.out) fs.mkdirSync(args.out, { recursive: true });
  const browser = await launch(args.chromium);
  const failures = [];
  const check = (what, ok, detail) => {
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${ok || !detail ? '' : ': ' + detail}`);
    if (!ok) failures.push(what);
  };
  try {
    const runs = [
      { name: 'sse', transports: ['sse', 'ws'], lines: netdevLines(30), via: 'SSE' },
      { name: 'ws', transports: ['ws'], lines: netdevLines(30), via: 'WebSocket' },
      { name: 'compare', transports: ['sse'], lines: compareLines(8), via: 'SSE' },
    ];
    for (const run of runs) {
      const server = await startServer({ webDir: args.web, lines: run.lines, intervalMs: INTERVAL_MS, transports: run.transports });
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // Failed loads are judged by URL below, not by their console line.
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
      });
      // Expected misses: the favicon (the agent has none) and, when the
      // server has no SSE, /events, which sends the page to /ws.
      const missing = [];
      page.on('response', (r) => {
        const p = new URL(r.url()).pathname;
        if (r.status() >= 400 && p !== '/favicon.ico' && !(p === '/events' && !run.transports.includes('sse'))) missing.push(`${p} ${r.status()}`);
      });
      // Requests the page makes: nothing may leave the agent's host.
      const foreign = [];
      page.on('request', (r) => { if (!r.url().startsWith(`http://127.0.0.1:${server.port}/`) && !r.url().startsWith(`ws://127.0.0.1:${server.port}/`)) foreign.push(r.url()); });
      try {
        await page.goto(`http://127.0.0.1:${server.port}/`, { waitUntil: 'load' });
        const byseq = new Map(run.lines.map((l) => [JSON.parse(l).seq, JSON.parse(l)]));
        const moments = run.name === 'compare' ? [2, 5] : [APPEARS + 4, VANISHES + 2];
        for (const [i, seq] of moments.entries()) {
          const shown = await capture(page, seq, 15000);
          const diffs = compare(shown, byseq.get(shown.seq));
          check(`${run.name}: page equals ndjson at seq ${shown.seq}`, diffs.length === 0, diffs.join('; '));
          check(`${run.name}: connected via ${run.via}`, shown.status.includes(run.via), shown.status);
          if (run.name !== 'compare') {
            const present = 'veth-new' in shown.interfaces;
            check(`${run.name}: veth-new ${i === 0 ? 'appeared' : 'vanished'} at seq ${shown.seq}`, present === (i === 0));
          }
          if (args.out) {
            // Let the chart frame for this snapshot render before the shot.
            await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
            const file = path.join(args.out, `${run.name}-seq${shown.seq}.png`);
            await page.screenshot({ path: file, fullPage: true });
          }
        }
        // The charts draw something in the interface's colours, and the log
        // toggle redraws without error.
        const inked = await page.evaluate(() => {
          const c = document.querySelector('[data-iface] canvas');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
          return n;
        });
        check(`${run.name}: chart drawn (${inked} pixels)`, inked > 500);
        if (run.name === 'sse') {
          // The filter takes globs and substrings; hidden cards stay in the DOM.
          await page.type('#filter', 'eth*');
          const shownCards = await page.$$eval('[data-iface]', (cards) => cards.filter((c) => !c.hidden).map((c) => c.dataset.iface));
          check('sse: filter eth* shows only eth0', shownCards.join() === 'eth0', shownCards.join());
          await page.$eval('#filter', (el) => { el.value = ''; el.dispatchEvent(new Event('input')); });
        }
        if (run.name === 'compare') {
          // Rates a compare line does not carry are marked as the page's own.
          const derived = await page.$$eval('[data-iface="va"] [data-field$="_bps"], [data-iface="va"] [data-field$="_pps"]',
            (cells) => cells.every((c) => 'derived' in c.dataset) && cells.length === 4);
          check('compare: derived rates marked data-derived', derived);
        }
        await page.click('#log');
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
        if (args.out) await page.screenshot({ path: path.join(args.out, `${run.name}-log.png`), fullPage: true });
        check(`${run.name}: no script errors`, errors.length === 0, errors.join('; '));
        check(`${run.name}: no failed request`, missing.length === 0, missing.join(' '));
        check(`${run.name}: no request beyond the server`, foreign.length === 0, foreign.join(' '));
      } finally {
        await page.close();
        await server.close();
      }
    }
  } finally {
    await browser.close();
  }
  console.log(failures.length ? `${failures.length} check(s) failed` : 'all checks passed');
  process.exitCode = failures.length ? 1 : 0;
}

main().catch((e) => {
  console.error(`page_test: ${e.message.split('\n')[0]}`);
  process.exitCode = e.skip ? 77 : 1;
});
