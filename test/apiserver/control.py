# SPDX-License-Identifier: Apache-2.0
"""Client of the test kube-apiserver's control channel, for Python tests.

The server (kube-apiserver.py) listens on STATE_DIR/control.sock. Each request is one
line of JSON {"cmd": ..., ...}; each reply is one line of JSON with "ok": true plus
results, or "ok": false and "error". The functions below wrap the commands; every one
takes the server's state directory first and raises ControlError when the server
refuses. ApiServer starts and stops a server process for a test.
"""

import json
import os
import signal
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "kube-apiserver.py")


class ControlError(Exception):
    """The server answered {"ok": false, ...}."""


def request(state_dir, cmd, **fields):
    """Send one control command and return the reply dict."""
    msg = dict(fields, cmd=cmd)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(os.path.join(state_dir, "control.sock"))
        s.sendall(json.dumps(msg).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            data = s.recv(1 << 20)
            if not data:
                raise ControlError("control channel closed before a reply to %s" % cmd)
            buf += data
    reply = json.loads(buf)
    if not reply.get("ok"):
        raise ControlError("%s: %s" % (cmd, reply.get("error")))
    return reply


def _clean(d):
    return {k: v for k, v in d.items() if v is not None}


def add_node(state_dir, name=None, podCIDR=None, podCIDRs=None, internalIP=None, annotations=None,
             labels=None, node=None, ready=None):
    """Create a node from a full object (node=) or the shorthand fields. Returns its RV."""
    if node is not None:
        return request(state_dir, "add_node", node=node)["resourceVersion"]
    return request(state_dir, "add_node", **_clean(dict(
        name=name, podCIDR=podCIDR, podCIDRs=podCIDRs, internalIP=internalIP,
        annotations=annotations, labels=labels, ready=ready)))["resourceVersion"]


def modify_node(state_dir, name, annotations=None, labels=None, podCIDR=None, podCIDRs=None,
                internalIP=None, patch=None, merge_patch=None, node=None):
    """Change a node: annotations/labels are merged (None values delete keys), patch is a
    strategic merge patch, merge_patch a JSON merge patch, node a full replacement."""
    return request(state_dir, "modify_node", **_clean(dict(
        name=name, annotations=annotations, labels=labels, podCIDR=podCIDR, podCIDRs=podCIDRs,
        internalIP=internalIP, patch=patch, merge_patch=merge_patch, node=node)))["resourceVersion"]


def delete_node(state_dir, name):
    return request(state_dir, "delete_node", name=name)["resourceVersion"]


def get_node(state_dir, name):
    return request(state_dir, "get_node", name=name)["node"]


def list_nodes(state_dir):
    return request(state_dir, "list_nodes")["nodes"]


def add_pod(state_dir, namespace, name, node_name):
    return request(state_dir, "add_pod", namespace=namespace, name=name, nodeName=node_name)


def resource_version(state_dir):
    return request(state_dir, "rv")["resourceVersion"]


def cut(state_dir):
    """Abort every open client connection (TCP closed, no TLS close_notify, no final chunk)."""
    return request(state_dir, "cut")["cut"]


def end_watches(state_dir):
    """End every open watch cleanly (terminating chunk), as at timeoutSeconds."""
    return request(state_dir, "end_watches")["ended"]


def stop(state_dir, seconds=-1, graceful=False):
    """Stop listening and drop connections; listen again after `seconds` (-1: until start())."""
    return request(state_dir, "stop", seconds=seconds, graceful=graceful)


def start(state_dir):
    return request(state_dir, "start")


def restart(state_dir, seconds=0, graceful=False):
    """Simulate an apiserver restart: connections dropped (watches end cleanly first if
    graceful), refused for `seconds`, and afterwards every older resourceVersion gets the
    in-stream 410 on watch."""
    return request(state_dir, "restart", seconds=seconds, graceful=graceful)


def compact(state_dir, watch_cache=True):
    """Compact history at the current RV: older list RVs/continue tokens get HTTP 410 and,
    unless watch_cache=False, older watch RVs get the in-stream 410."""
    return request(state_dir, "compact", watch_cache=watch_cache)["compacted"]


def rotate_token(state_dir, user, token=None):
    """Give `user` a new token (written to token-USER and kubeconfig-USER); the old one gets 401."""
    return request(state_dir, "rotate_token", **_clean(dict(user=user, token=token)))["token"]


def set_verbs(state_dir, user, verbs):
    """verbs: 'admin' | 'flannel' | 'none' | 'get/nodes,list/nodes,patch/nodes/status,...'"""
    return request(state_dir, "set_verbs", user=user, verbs=verbs)


def inject_garbage(state_dir, data=None):
    """Write a malformed line (default: a truncated event + newline) into every open watch."""
    return request(state_dir, "inject_garbage", **_clean(dict(data=data)))["streams"]


def fail_next(state_dir, count=1, code=429, verb="", path="/", retry_after=1):
    """Answer the next `count` authorized API requests matching verb/path prefix with `code`."""
    return request(state_dir, "fail_next", count=count, code=code, verb=verb, path=path,
                   retry_after=retry_after)


def stats(state_dir, reset=False):
    """{"requests": [{verb, method, path, code, count}], "total", "watches", "connections", "listening"}"""
    return request(state_dir, "stats", reset=reset)


class ApiServer:
    """Runs kube-apiserver.py for a test: ApiServer(state_dir).start() ... .stop()."""

    def __init__(self, state_dir, listen=("127.0.0.1:0",), extra_args=(), netns=None):
        self.state_dir = state_dir
        self.listen = list(listen)
        self.extra_args = list(extra_args)
        self.netns = netns
        self.proc = None
        self.addresses = []

    def start(self, timeout=30):
        os.makedirs(self.state_dir, exist_ok=True)
        cmd = [sys.executable, SERVER, "--state-dir", self.state_dir]
        for a in self.listen:
            cmd += ["--listen", a]
        cmd += self.extra_args
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
            raise RuntimeError("kube-apiserver.py did not start (got %r)" % line)
        self.addresses = line.split()[1:]
        return self

    @property
    def url(self):
        return "https://" + self.addresses[0]

    @property
    def ca(self):
        return os.path.join(self.state_dir, "ca.crt")

    def token(self, user):
        with open(os.path.join(self.state_dir, "token-" + user)) as f:
            return f.read()

    def kubeconfig(self, user):
        return os.path.join(self.state_dir, "kubeconfig-" + user)

    def stop(self, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
