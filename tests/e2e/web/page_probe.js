'use strict';
// Loads the live page in Debian's chromium (puppeteer-core), waits until it
// shows snapshot `seq` (or a later one, should the server have dropped some
// for a slow client), and reports what the page displays, from its data-
// attributes; optionally compares that with the NDJSON line of the same seq
// and takes a screenshot.
//
//   node page_probe.js --url http://127.0.0.1:9310/ --seq 5 \
//        [--iface NAME] [--no-iface NAME] \
//        [--expect snapshots.ndjson] [--screenshot out.png] \
//        [--chromium /usr/bin/chromium] [--timeout-ms 20000]
//
// --iface / --no-iface (repeatable) also wait until the page shows, or no
// longer shows, that interface: for a veth a test creates or deletes.
//
// Prints the displayed numbers as JSON on stdout. Exit 0; 1 when the page
// does not reach the seq in time or (with --expect) shows other numbers than
// the NDJSON line; 2 for bad arguments; 77 when chromium or puppeteer-core is
// missing (a test skip).
const fs = require('fs');

const DEFAULT_CHROMIUM = '/usr/bin/chromium';

function loadPuppeteer() {
  try {
    return require('puppeteer-core');
  } catch (e) {
    return null;
  }
}

async function launch(chromium = DEFAULT_CHROMIUM) {
  const puppeteer = loadPuppeteer();
  if (!puppeteer) throw Object.assign(new Error('puppeteer-core not installed (run ci/npm-deps)'), { skip: true });
  if (!fs.existsSync(chromium)) throw Object.assign(new Error(`no chromium at ${chromium} (apt-get install chromium)`), { skip: true });
  return puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1280,900'],
    defaultViewport: { width: 1280, height: 900 },
  });
}

// Runs in the page: what it shows once <main data-seq> reaches n (and the
// named interfaces are there, or gone), else false. Evaluated on DOM
// mutations, after the snapshot's whole update (one task).
function displayed(n, present, absent) {
  const main = document.querySelector('#ifaces');
  if (!main || main.dataset.seq === '' || Number(main.dataset.seq) < n) return false;
  const has = (name) => [...main.querySelectorAll('[data-iface]')].some((c) => c.dataset.iface === name);
  if (!present.every(has) || absent.some(has)) return false;
  const out = {
    seq: Number(main.dataset.seq),
    source: main.dataset.source,
    ts_ms: Number(main.dataset.tsMs),
    status: document.querySelector('#status').textContent,
    interfaces: {},
  };
  for (const card of main.querySelectorAll('[data-iface]')) {
    const fields = {};
    for (const el of card.querySelectorAll('[data-field]')) {
      if (el.hidden) continue;
      const shown = el.querySelector('.v') || el;
      fields[el.dataset.field] = { value: el.dataset.value, text: shown.textContent, derived: 'derived' in el.dataset };
    }
    const quota = card.querySelector('.quota');
    const bar = quota && !quota.hidden ? quota.querySelector('.bar i').style.width : null;
    out.interfaces[card.dataset.iface] = { ifindex: Number(card.dataset.ifindex), hidden: card.hidden, fields, bar };
  }
  return out;
}

async function capture(page, seq, timeoutMs = 20000, present = [], absent = []) {
  const handle = await page.waitForFunction(displayed, { polling: 'mutation', timeout: timeoutMs }, seq, present, absent);
  return handle.jsonValue();
}

const PREFIX = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
function parseSi(text) {
  const m = /^(-?[\d.]+) ([kMGTPE]?)/.exec(text);
  return m ? Number(m[1]) * PREFIX[m[2]] : NaN;
}

const RATES = ['rx_bps', 'tx_bps', 'rx_pps', 'tx_pps'];
const TOTALS = ['rx_bytes', 'tx_bytes', 'rx_packets', 'tx_packets'];

// Differences between what the page shows and the NDJSON line; [] when equal.
function compare(shown, line) {
  const diffs = [];
  if (shown.seq !== line.seq) diffs.push(`seq: page ${shown.seq}, ndjson ${line.seq}`);
  if (shown.source !== line.source) diffs.push(`source: page ${shown.source}, ndjson ${line.source}`);
  const want = Object.keys(line.interfaces).sort();
  const have = Object.keys(shown.interfaces).sort();
  if (want.join() !== have.join()) diffs.push(`interfaces: page [${have}], ndjson [${want}]`);
  for (const name of want) {
    const s = shown.interfaces[name];
    if (!s) continue;
    const d = line.interfaces[name];
    if (s.ifindex !== d.ifindex) diffs.push(`${name}.ifindex: page ${s.ifindex}, ndjson ${d.ifindex}`);
    const compareLine = line.source === 'compare';
    const src = compareLine ? d.bpf : d;
    for (const f of compareLine ? TOTALS : [...TOTALS, ...RATES]) {
      const got = s.fields[f];
      if (!got) { diffs.push(`${name}.${f}: not shown`); continue; }
      if (got.value !== String(src[f])) diffs.push(`${name}.${f}: page ${got.value}, ndjson ${src[f]}`);
      // What a person reads must say the same: totals exactly (digits
      // grouped), rates to the 3 significant digits shown.
      if (TOTALS.includes(f)) {
        if (got.text.replace(/\D/g, '') !== String(src[f])) diffs.push(`${name}.${f}: text '${got.text}' for ${src[f]}`);
      } else {
        const v = parseSi(got.text);
        if (!(Math.abs(v - src[f]) <= Math.max(0.005, Math.abs(src[f]) * 0.005))) {
          diffs.push(`${name}.${f}: text '${got.text}' for ${src[f]}`);
        }
      }
    }
    if (d.usage) diffs.push(...compareUsage(name, s, d.usage, line.usage_periods));
    if (compareLine) {
      const m = s.fields.match;
      if (!m || m.value !== String(d.match)) diffs.push(`${name}.match: page ${m && m.value}, ndjson ${d.match}`);
    }
  }
  return diffs;
}

// The ledger's usage (--ledger) and quota bar against the line's "usage"
// and, for the period labels, its "usage_periods".
function compareUsage(name, s, u, periods) {
  const diffs = [];
  const want = {};
  for (const p of ['day', 'month']) {
    want[`usage.${p}.period`] = periods[p];
    for (const k of ['rx_bytes', 'tx_bytes']) want[`usage.${p}.${k}`] = u[p][k];
  }
  if (u.quota) {
    for (const k of ['used_bytes', 'limit_bytes', 'percent', 'projected_bytes', 'direction', 'kind']) {
      want[`usage.quota.${k}`] = u.quota[k];
    }
  }
  for (const [f, v] of Object.entries(want)) {
    const got = s.fields[f];
    if (!got) diffs.push(`${name}.${f}: not shown`);
    else if (got.value !== String(v)) diffs.push(`${name}.${f}: page ${got.value}, ndjson ${v}`);
  }
  for (const p of ['day', 'month']) {
    for (const k of ['rx_bytes', 'tx_bytes']) {
      const got = s.fields[`usage.${p}.${k}`];
      // Exact digits first, then "(x.xx MiB)": what a person reads is the count.
      if (got && got.text.split(' B')[0].replace(/\D/g, '') !== String(u[p][k])) {
        diffs.push(`${name}.usage.${p}.${k}: text '${got.text}' for ${u[p][k]}`);
      }
    }
  }
  if (u.quota) {
    const pct = s.fields['usage.quota.percent'];
    if (pct && parseFloat(pct.text) !== u.quota.percent) diffs.push(`${name}.usage.quota.percent: text '${pct.text}'`);
    const bar = `${Math.min(100, u.quota.percent)}%`;
    if (s.bar !== bar) diffs.push(`${name}: quota bar ${s.bar}, want ${bar}`);
  } else if (s.bar) {
    diffs.push(`${name}: a quota bar without a quota`);
  }
  return diffs;
}

function findLine(file, seq) {
  for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!l.trim()) continue;
    const j = JSON.parse(l);
    if (j.seq === seq) return j;
  }
  return null;
}

function parseArgs(argv) {
  const a = { chromium: DEFAULT_CHROMIUM, timeoutMs: 20000, present: [], absent: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i], v = argv[i + 1];
    if (v === undefined) throw new Error(`${k}: missing value`);
    if (k === '--url') a.url = v;
    else if (k === '--seq') a.seq = Number(v);
    else if (k === '--iface') a.present.push(v);
    else if (k === '--no-iface') a.absent.push(v);
    else if (k === '--expect') a.expect = v;
    else if (k === '--screenshot') a.screenshot = v;
    else if (k === '--chromium') a.chromium = v;
    else if (k === '--timeout-ms') a.timeoutMs = Number(v);
    else throw new Error(`unknown option '${k}'`);
  }
  if (!a.url || !Number.isInteger(a.seq) || a.seq < 0) throw new Error('need --url URL and --seq N (N >= 0)');
  return a;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`page_probe: ${e.message}`);
    process.exit(2);
  }
  let browser;
  try {
    browser = await launch(args.chromium);
    const page = await browser.newPage();
    await page.goto(args.url, { waitUntil: 'load' });
    const shown = await capture(page, args.seq, args.timeoutMs, args.present, args.absent);
    if (args.screenshot) await page.screenshot({ path: args.screenshot, fullPage: true });
    console.log(JSON.stringify(shown, null, 1));
    if (args.expect) {
      const line = findLine(args.expect, shown.seq);
      if (!line) throw new Error(`${args.expect}: no line with seq ${shown.seq}`);
      const diffs = compare(shown, line);
      if (diffs.length) throw new Error(`page differs from ndjson at seq ${shown.seq}: ${diffs.join('; ')}`);
    }
  } catch (e) {
    console.error(`page_probe: ${e.message.split('\n')[0]}`);
    process.exitCode = e.skip ? 77 : 1;
  } finally {
    if (browser) await browser.close();
  }
}

module.exports = { launch, capture, compare, parseSi };
if (require.main === module) main();
