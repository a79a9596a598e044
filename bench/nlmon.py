# SPDX-License-Identifier: Apache-2.0
"""Timestamped stream of the kernel's route, neighbour, FDB and link changes.

Run inside a node's network namespace (ip netns exec NS python3 nlmon.py).
It joins the rtnetlink multicast groups and prints one line per change, as
soon as the kernel reports it:

    <CLOCK_REALTIME ns> <+|-> <route|neigh|fdb|link> <key> [detail]

  route  key = dst/len (IPv4 and IPv6, main table only), detail = dev ifindex
  neigh  key = IP address, detail = lladdr (additions of permanent entries
         only: the ones an agent writes; every deletion, since the kernel
         reports a deleted entry in the state it is left in, not as permanent)
  fdb    key = MAC address, detail = dst IP
  link   key = interface name

It prints "READY" once subscribed, so a caller can start the thing to
measure afterwards. The receive buffer is made large (SO_RCVBUFFORCE, root)
so that thousands of changes in a burst are not dropped; if the kernel
drops some anyway (ENOBUFS) it prints "OVERRUN" and exits 1, because the
stream would no longer be complete. Timestamps are taken on receipt, with
CLOCK_REALTIME (wall clock, like `ip -ts monitor`), so that they compare
with the test API server's --event-log and with other processes' clocks.
"""

import ipaddress
import os
import socket
import struct
import sys
import time

SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
SO_RCVBUFFORCE = 33
GROUPS = (1, 3, 7, 11)  # RTNLGRP_LINK, _NEIGH, _IPV4_ROUTE, _IPV6_ROUTE

RTM_NEWLINK, RTM_DELLINK = 16, 17
RTM_NEWROUTE, RTM_DELROUTE = 24, 25
RTM_NEWNEIGH, RTM_DELNEIGH = 28, 29
AF_BRIDGE = 7
NUD_PERMANENT = 0x80
RT_TABLE_MAIN = 254


def attrs(buf, off):
    """Yield (type, payload) of the rtattrs from off to the end of buf."""
    while off + 4 <= len(buf):
        alen, atype = struct.unpack_from("=HH", buf, off)
        if alen < 4:
            return
        yield atype & 0x3FFF, buf[off + 4:off + alen]
        off += (alen + 3) & ~3


def ip_str(raw):
    if len(raw) == 4 or len(raw) == 16:
        return str(ipaddress.ip_address(raw))
    return raw.hex()


def mac_str(raw):
    return ":".join("%02x" % b for b in raw)


def describe(mtype, msg):
    """Return (op, kind, key, detail) for one rtnetlink message, or None."""
    op = "+" if mtype in (RTM_NEWLINK, RTM_NEWROUTE, RTM_NEWNEIGH) else "-"
    if mtype in (RTM_NEWROUTE, RTM_DELROUTE):
        if len(msg) < 12:
            return None
        family, dst_len, _, _, table = struct.unpack_from("=BBBBB", msg, 0)
        dst, oif = None, 0
        for atype, val in attrs(msg, 12):
            if atype == 1:
                dst = ip_str(val)
            elif atype == 4 and len(val) == 4:
                oif = struct.unpack("=i", val)[0]
            elif atype == 15 and len(val) == 4:
                table = struct.unpack("=I", val)[0]
        if table != RT_TABLE_MAIN:
            return None
        if dst is None:
            dst = "0.0.0.0" if family == socket.AF_INET else "::"
        return op, "route", "%s/%d" % (dst, dst_len), "dev%d" % oif
    if mtype in (RTM_NEWNEIGH, RTM_DELNEIGH):
        if len(msg) < 12:
            return None
        family, _, _, _, state = struct.unpack_from("=BBHiH", msg, 0)
        dst, lladdr = "", ""
        for atype, val in attrs(msg, 12):
            if atype == 1:
                dst = ip_str(val)
            elif atype == 2:
                lladdr = mac_str(val)
        if family == AF_BRIDGE:
            return op, "fdb", lladdr, dst
        if op == "+" and not state & NUD_PERMANENT:
            return None
        return op, "neigh", dst, lladdr
    if mtype in (RTM_NEWLINK, RTM_DELLINK):
        if len(msg) < 16:
            return None
        name = ""
        for atype, val in attrs(msg, 16):
            if atype == 3:
                name = val.rstrip(b"\0").decode(errors="replace")
        return op, "link", name, ""
    return None


def main():
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 256 << 20)
    sock.bind((0, 0))
    for group in GROUPS:
        sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
    out = sys.stdout
    out.write("READY\n")
    out.flush()
    while True:
        try:
            data = sock.recv(1 << 20)
        except OSError as e:
            if e.errno == 105:  # ENOBUFS: the kernel dropped notifications
                out.write("OVERRUN\n")
                out.flush()
                sys.exit(1)
            raise
        now = time.time_ns()
        off = 0
        lines = []
        while off + 16 <= len(data):
            mlen, mtype = struct.unpack_from("=IH", data, off)
            if mlen < 16:
                break
            d = describe(mtype, data[off + 16:off + mlen])
            if d is not None:
                lines.append("%d %s %s %s %s\n" % ((now,) + d))
            off += (mlen + 3) & ~3
        if lines:
            try:
                out.write("".join(lines))
                out.flush()
            except BrokenPipeError:
                os._exit(0)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
