#!/usr/bin/env python3
"""Holds idle and slowloris TCP connections to an HTTP server, as an attacker
(or an unlucky operator's broken client) would, for the --listen tests.

  hold_connections.py HOST PORT --idle N [--slow M] [--drip-seconds S]

Idle connections send nothing; slow ones send the start of a request head,
then one byte every S seconds, never ending it. A connection the server
closes (its deadline, or eviction) is opened again at once, so N + M are
held at every moment. Every second a line goes to stdout:
  held IDLE SLOW reopened TOTAL
and "ready" once all N + M were first connected. Runs until killed.
"""
import argparse
import selectors
import socket
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('host')
    parser.add_argument('port', type=int)
    parser.add_argument('--idle', type=int, default=0)
    parser.add_argument('--slow', type=int, default=0)
    parser.add_argument('--drip-seconds', type=float, default=2.0)
    args = parser.parse_args()

    sel = selectors.DefaultSelector()
    reopened = 0

    def open_one(kind):
        s = socket.socket()
        s.setblocking(True)
        s.connect((args.host, args.port))
        if kind == 'slow':
            s.sendall(b'GET /metrics HTTP/1.1\r\nX-Slow: ')
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, kind)

    for _ in range(args.idle):
        open_one('idle')
    for _ in range(args.slow):
        open_one('slow')
    print('ready', flush=True)

    next_drip = time.monotonic() + args.drip_seconds
    next_report = time.monotonic()
    while True:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b''
            if data:
                continue  # an answer: kept, the server closes it next
            sel.unregister(s)
            s.close()
            try:
                open_one(key.data)
                reopened += 1
            except OSError as e:
                print(f'reconnect failed: {e}', file=sys.stderr, flush=True)
        now = time.monotonic()
        if now >= next_drip:
            for key in list(sel.get_map().values()):
                if key.data == 'slow':
                    try:
                        key.fileobj.send(b'a')
                    except OSError:
                        pass  # closed: found by the next select
            next_drip = now + args.drip_seconds
        if now >= next_report:
            kinds = [k.data for k in sel.get_map().values()]
            print(f'held {kinds.count("idle")} {kinds.count("slow")} reopened {reopened}',
                  flush=True)
            next_report = now + 1


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
