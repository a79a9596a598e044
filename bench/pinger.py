# SPDX-License-Identifier: Apache-2.0
"""ICMP echo at an exact rate, for the restart-disruption benchmark.

iputils ping's -i 0.01 sends noticeably fewer than 100 packets a second on
some kernels (its sleeps round up), so this sends on a fixed schedule of
absolute deadlines instead. It runs until SIGINT or SIGTERM, waits one
second for the last replies, and prints one JSON object:
{"sent", "received", "lost", "longest_outage_ms"} where longest_outage_ms
is the longest run of unanswered probes, as time (0 when none was lost).

  ip netns exec POD python3 pinger.py DEST_IPV4 [RATE]
"""

import json
import os
import select
import signal
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main():
    dest = sys.argv[1]
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 100.0
    ident = os.getpid() & 0xFFFF
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setblocking(False)
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    sent_at = {}
    answered = set()
    period = 1.0 / rate
    start = time.monotonic()
    seq = 0
    end = None
    while True:
        now = time.monotonic()
        if stop and end is None:
            end = now + 1.0
        if end is not None and now >= end:
            break
        next_send = start + seq * period
        if end is None and now >= next_send:
            payload = struct.pack("!d", now) + b"flannel-bench".ljust(48, b".")
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq & 0xFFFF)
            pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + payload), ident, seq & 0xFFFF) + payload
            sock.sendto(pkt, (dest, 0))
            sent_at[seq] = now
            seq += 1
            continue
        wait = (end if end is not None else next_send) - now
        r, _, _ = select.select([sock], [], [], max(0.0, wait))
        while r:
            try:
                data = sock.recv(2048)
            except BlockingIOError:
                break
            ihl = (data[0] & 0x0F) * 4
            if len(data) < ihl + 8:
                continue
            typ, _, _, rid, rseq = struct.unpack_from("!BBHHH", data, ihl)
            if typ != 0 or rid != ident:
                continue
            # Sequence numbers wrap at 65536 (11 minutes at 100/s): map back.
            full = seq - 1 - ((seq - 1 - rseq) & 0xFFFF)
            if full in sent_at:
                answered.add(full)
    ok = sorted(answered)
    gaps = [b - a for a, b in zip(ok, ok[1:])]
    if ok:
        gaps += [ok[0], seq - 1 - ok[-1]]
    longest = max(gaps) - 1 if ok and gaps else seq
    print(json.dumps({"sent": seq, "received": len(ok), "lost": seq - len(ok),
                      "longest_outage_ms": round(max(longest, 0) * period * 1000, 1)}))


if __name__ == "__main__":
    main()
