'use strict';
// A real WebSocket client (node's `ws`) for agent_stream_test.sh: connects to
// the agent's /ws, writes every text message as one line to stdout, and on
// close prints "close CODE" to stderr and exits 0 (1 on an error).
//
//   NODE_PATH=tests/e2e/node_modules node ws_record.js ws://127.0.0.1:9310/ws
const WebSocket = require('ws');

const ws = new WebSocket(process.argv[2]);
ws.on('message', (data, isBinary) => {
  if (isBinary) {
    console.error('binary message');
    process.exitCode = 1;
    return;
  }
  process.stdout.write(data.toString('utf8') + '\n');
});
ws.on('close', (code) => {
  console.error(`close ${code}`);
});
ws.on('error', (e) => {
  console.error(`error ${e.message}`);
  process.exitCode = 1;
});
