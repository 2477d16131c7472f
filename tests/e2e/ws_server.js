#!/usr/bin/env node
// The far end of `netmon-agent | wscat -c ws://...` for websocket_test.sh: a
// plain `ws` server on loopback that records every message with its arrival
// time, then hangs up on the client after --count messages so the test can
// check that the agent exits when its reader goes away.
//
// usage: ws_server.js --out FILE [--count N] [--timeout-ms MS]
// Prints "port N" on stdout once listening (port chosen by the kernel).
// FILE gets one JSON record per message: {"t_ms": <arrival, ms>, "data": "..."}.
'use strict';

const fs = require('fs');
const { WebSocketServer } = require('ws');

function parseArgs(argv) {
  const args = { count: 10, timeoutMs: 20000, out: null };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--out': args.out = value; i++; break;
      case '--count': args.count = Number(value); i++; break;
      case '--timeout-ms': args.timeoutMs = Number(value); i++; break;
      default:
        console.error(`ws_server.js: unknown argument '${argv[i]}'`);
        process.exit(2);
    }
  }
  if (!args.out || !(args.count > 0)) {
    console.error('usage: ws_server.js --out FILE [--count N] [--timeout-ms MS]');
    process.exit(2);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const out = fs.openSync(args.out, 'w');
let received = 0;

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });

server.on('listening', () => {
  process.stdout.write(`port ${server.address().port}\n`);
});

server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => {
    if (received >= args.count) return;  // the rest of a burst, after hanging up
    // performance.now(): monotonic, sub-millisecond; only differences matter.
    const record = { t_ms: performance.now(), binary: isBinary, data: data.toString('utf8') };
    fs.writeSync(out, JSON.stringify(record) + '\n');
    if (++received === args.count) {
      // A normal close, as a websocat user's server going away would send.
      socket.close(1000, 'enough');
      server.close();
      setTimeout(() => process.exit(0), 200);
    }
  });
});

setTimeout(() => {
  console.error(`ws_server.js: timed out after ${args.timeoutMs} ms with ${received} messages`);
  process.exit(1);
}, args.timeoutMs).unref();
