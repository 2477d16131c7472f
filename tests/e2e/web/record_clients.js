'use strict';
// Records what real WebSocket clients send — node's `ws`, wscat and
// Chromium — so the in-tree handshake and frame parser (agent/web) are tested
// against them byte for byte (tests/unit/web/real_clients_test.cpp), with no
// server of ours involved. Each client connects to a recorder that answers
// the handshake (with node's own SHA-1) and keeps every byte it receives.
//
//   node record_clients.js OUTDIR    (writes CLIENT.request, .frames, .accept)
//
// Every client sends: "hello netmon", 300 × "x" (16-bit length), "✓ µs"
// (UTF-8), then closes with 1000 "bye"; `ws` also pings "are you there".
// wscat's command line allows one message and a plain close.
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { execFile } = require('child_process');
const { launch } = require('./page_probe');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MESSAGES = ['hello netmon', 'x'.repeat(300), '✓ µs'];

function recorder() {
  const sessions = [];
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    let session = null;
    sock.on('data', (d) => {
      if (session) { session.frames.push(d); return; }
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end + 4).toString('latin1');
      const rest = buf.subarray(end + 4);
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(head);
      if (!key) {
        const body = '<!doctype html><title>recorder</title>';
        sock.end(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      const accept = crypto.createHash('sha1').update(key[1] + GUID).digest('base64');
      session = { head, accept, frames: [rest] };
      sessions.push(session);
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      // Answer the client's close (or give up) after a moment, so it ends.
      setTimeout(() => sock.end(Buffer.from([0x88, 0x02, 0x03, 0xe8])), 1000);
    });
    sock.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, sessions, port: server.address().port })));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function record(name, outDir, client) {
  const rec = await recorder();
  try {
    await client(rec.port);
    await sleep(1500);
  } finally {
    rec.server.close();
  }
  if (rec.sessions.length !== 1) throw new Error(`${name}: ${rec.sessions.length} sessions recorded, want 1`);
  const s = rec.sessions[0];
  fs.writeFileSync(path.join(outDir, `${name}.request`), s.head, 'latin1');
  fs.writeFileSync(path.join(outDir, `${name}.frames`), Buffer.concat(s.frames));
  fs.writeFileSync(path.join(outDir, `${name}.accept`), s.accept + '\n');
  console.log(`${name}: ${s.head.length} bytes of request, ${Buffer.concat(s.frames).length} bytes of frames`);
}

async function main() {
  const outDir = process.argv[2];
  if (!outDir) { console.error('usage: record_clients.js OUTDIR'); process.exit(2); }
  fs.mkdirSync(outDir, { recursive: true });

  await record('ws-node', outDir, (port) => new Promise((resolve, reject) => {
    const WebSocket = require('ws');
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.on('open', () => {
      for (const m of MESSAGES) ws.send(m);
      ws.ping('are you there');
      ws.close(1000, 'bye');
      resolve();
    });
    ws.on('error', reject);
  }));

  const wscat = path.join(__dirname, '../node_modules/.bin/wscat');
  await record('wscat', outDir, (port) => new Promise((resolve, reject) => {
    execFile(wscat, ['-c', `ws://127.0.0.1:${port}/ws`, '-x', MESSAGES[0], '-w', '0.2'], { timeout: 5000 },
      (err) => (err && err.killed ? reject(new Error('wscat hung')) : resolve()));
  }));

  const browser = await launch(process.env.NETMON_CHROMIUM);
  try {
    await record('chromium', outDir, async (port) => {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.evaluate((msgs) => new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://${location.host}/ws`);
        ws.onopen = () => { for (const m of msgs) ws.send(m); ws.close(1000, 'bye'); resolve(); };
        ws.onerror = () => reject(new Error('websocket error'));
      }), MESSAGES);
    });
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(`record_clients: ${e.message}`); process.exitCode = e.skip ? 77 : 1; });
