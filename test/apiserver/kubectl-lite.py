#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Command-line client of the test kube-apiserver's control channel, for shell tests.

  kubectl-lite.py --state-dir DIR COMMAND [KEY=VALUE ...]

COMMAND is a control command (add_node, modify_node, delete_node, get_node, list_nodes,
cut, stop, start, restart, compact, rotate_token, set_verbs, inject_garbage, fail_next,
stats, add_pod, end_watches, rv; '-' may replace '_'). Each VALUE is parsed as JSON when
it is valid JSON, else taken as a string; KEY may be dotted (annotations.a/b=c builds
{"annotations": {"a/b": "c"}}). The reply is printed as JSON; exit status 1 if refused.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import control  # noqa: E402


def parse_fields(pairs):
    out = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError("argument %r is not KEY=VALUE" % pair)
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        head, dot, rest = key.partition(".")
        if dot:
            sub = out.setdefault(head, {})
            if not isinstance(sub, dict):
                raise ValueError("%s is given both as a value and as an object" % head)
            sub[rest] = value
        else:
            out[key] = value
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--state-dir", "-s", required=True)
    ap.add_argument("command")
    ap.add_argument("fields", nargs="*", help="KEY=VALUE")
    args = ap.parse_args()
    try:
        fields = parse_fields(args.fields)
        reply = control.request(args.state_dir, args.command.replace("-", "_"), **fields)
    except (ValueError, OSError, control.ControlError) as e:
        print("kubectl-lite: %s" % e, file=sys.stderr)
        return 1
    reply.pop("ok", None)
    print(json.dumps(reply, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
