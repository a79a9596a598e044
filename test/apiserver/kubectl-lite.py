#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Command-line client of the test kube-apiserver's control channel, for shell tests.

  kubectl-lite.py --state-dir DIR COMMAND [KEY=VALUE ...]

COMMAND is a control command (add_node, modify_node, delete_node, get_node, list_nodes,
cut, stop, start, restart, compact, rotate_token, set_verbs, inject_garbage, fail_next,
stats, end_watches, rv, hold_lists; for Namespaces, Pods and NetworkPolicies add_namespace, add_pod,
delete_pod, create, get, list, patch, delete; '-' may replace '_') or one of:

  apply namespace=NS file=PATH       create the objects of a JSON or YAML file (a NetworkPolicy,
                                     Namespace or Pod, or a List / YAML stream of them)
  label resource=R [namespace=NS] name=N labels.KEY=VALUE ...
                                     merge labels (VALUE null removes the label)

Each VALUE is parsed as JSON when it is valid JSON, else taken as a string; KEY may be
dotted (annotations.a/b=c builds {"annotations": {"a/b": "c"}}). The reply is printed as
JSON; exit status 1 if refused.

  kubectl-lite.py -s DIR add-namespace name=x labels.ns=x
  kubectl-lite.py -s DIR add-pod namespace=x name=a nodeName=n1 labels.pod=a podIPs='["198.18.1.2"]' \
      ports='[{"name":"serve-80-tcp","containerPort":80}]'
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


RESOURCES = {"NetworkPolicy": "networkpolicies", "Namespace": "namespaces", "Pod": "pods"}


def load_objects(path):
    with open(path) as f:
        text = f.read()
    try:
        docs = [json.loads(text)]
    except ValueError:
        import yaml  # python3-yaml (test/install-deps.sh)
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    out = []
    for d in docs:
        out.extend(d.get("items", []) if isinstance(d, dict) and d.get("kind", "").endswith("List") else [d])
    return out


def run(state_dir, command, fields):
    if command == "apply":
        replies = []
        for obj in load_objects(fields["file"]):
            res = RESOURCES.get(obj.get("kind") if isinstance(obj, dict) else None)
            if res is None:
                raise ValueError("%s: not a NetworkPolicy, Namespace or Pod" % fields["file"])
            ns = fields.get("namespace") or (obj.get("metadata") or {}).get("namespace") or "default"
            replies.append(control.request(state_dir, "create", resource=res, namespace=ns, object=obj))
        return {"created": len(replies), "resourceVersion": replies[-1]["resourceVersion"] if replies else None}
    if command == "label":
        return control.request(state_dir, "patch", **fields)
    return control.request(state_dir, command, **fields)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--state-dir", "-s", required=True)
    ap.add_argument("command")
    ap.add_argument("fields", nargs="*", help="KEY=VALUE")
    args = ap.parse_args()
    try:
        fields = parse_fields(args.fields)
        reply = run(args.state_dir, args.command.replace("-", "_"), fields)
    except (ValueError, OSError, control.ControlError) as e:
        print("kubectl-lite: %s" % e, file=sys.stderr)
        return 1
    reply.pop("ok", None)
    print(json.dumps(reply, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
