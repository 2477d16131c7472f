#!/usr/bin/env bash
# Records what today's node ws, wscat and chromium send on a WebSocket
# (record_clients.js) and runs the in-tree handshake and frame parser's
# RealClients tests on that recording, so a client update that the parser
# does not understand is caught, not only the committed recording.
# Usage: real_clients_test.sh NETMON_WEB_TESTS_BINARY. Exit 77: skipped.
set -euo pipefail
tests_bin=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

rc=0
node "$here/record_clients.js" "$dir" || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"
NETMON_WS_FIXTURES=$dir "$tests_bin" --gtest_filter='RealClients.*'
