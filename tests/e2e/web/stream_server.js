'use strict';
// A stand-in for the agent's HTTP server while it cannot yet serve the page:
// serves web/ (gzipped, with the headers agent/web/web_assets.h declares) and
// streams given NDJSON lines on /events (SSE, framed as agent/web/sse.h
// declares) and /ws (WebSocket, node's `ws`). Each client gets every line
// from the first, one per interval, so what a page shows at a given seq is
// deterministic. For tests only; the agent replaces it.
const fs = require('fs');
const http = require('http');
const path = require('path');
const zlib = require('zlib');

const REPO = path.resolve(__dirname, '../../..');

// The header block of a C++ string constant, read from the agent's header so
// this stand-in sends exactly what the agent will.
function cxxHeaders(file, name) {
  const src = fs.readFileSync(path.join(REPO, file), 'utf8');
  const m = src.match(new RegExp(name + '\\s*=\\s*((?:\\s*"[^"]*")+)\\s*;'));
  if (!m) throw new Error(`${file}: no ${name}`);
  const text = [...m[1].matchAll(/"([^"]*)"/g)].map((x) => x[1]).join('').replace(/\\r\\n/g, '\n');
  return text.split('\n').filter(Boolean).map((l) => l.split(/:\s*/, 2));
}

const ASSETS = {
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

// opts: { webDir, lines: [string], intervalMs, transports: ['sse','ws'] }
function startServer(opts) {
  const assetHeaders = cxxHeaders('agent/web/web_assets.h', 'kWebAssetHeaders');
  const sseHeaders = cxxHeaders('agent/web/sse.h', 'kSseHeaders');
  const transports = opts.transports || ['sse', 'ws'];
  const timers = new Set();

  function stream(send, done) {
    let i = 0;
    const t = setInterval(() => {
      if (i < opts.lines.length) send(opts.lines[i++], false);
      else send('keep-alive', true);
    }, opts.intervalMs);
    timers.add(t);
    done(() => { clearInterval(t); timers.delete(t); });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const p = url.pathname === '/' ? '/index.html' : url.pathname;
    if (ASSETS[p]) {
      const [file, type] = ASSETS[p];
      const body = zlib.gzipSync(fs.readFileSync(path.join(opts.webDir, file)), { level: 9 });
      res.writeHead(200, [['Content-Type', type], ['Content-Length', String(body.length)], ...assetHeaders]);
      res.end(body);
      return;
    }
    if (p === '/events' && transports.includes('sse')) {
      res.writeHead(200, sseHeaders);
      res.flushHeaders();
      stream((text, comment) => res.write(comment ? `: ${text}\n\n` : `data: ${text}\n\n`),
        (stop) => req.on('close', stop));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
  });

  if (transports.includes('ws')) {
    const { WebSocketServer } = require('ws');
    const wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      if (new URL(req.url, 'http://x').pathname !== '/ws') { socket.destroy(); return; }
      wss.handleUpgrade(req, socket, head, (ws) => {
        stream((text, comment) => { if (!comment) ws.send(text); }, (stop) => ws.on('close', stop));
      });
    });
  } else {
    server.on('upgrade', (req, socket) => socket.destroy());
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({
      port: server.address().port,
      close() {
        for (const t of timers) clearInterval(t);
        server.closeAllConnections();
        return new Promise((r) => server.close(r));
      },
    }));
  });
}

module.exports = { startServer };
