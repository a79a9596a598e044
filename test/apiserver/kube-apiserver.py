#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Test double of kube-apiserver v1.24 for flannel's system tests, demo and benchmarks.

It speaks HTTPS/1.1 (keep-alive, chunked watches) and serves what flannel uses:
Nodes (list with pagination, get, watch with bookmarks, strategic-merge / merge / JSON
patch of nodes and nodes/status, create, update, delete) and Pods by name. Its wire
format, headers, Status error bodies and resourceVersion semantics follow the real
server as recorded in kube-wire/ (see README.md facts H, O, E, P, W, A).

Everything runs in one asyncio loop. Node JSON is serialized once per write and the
bytes are shared by GET, LIST pages and every watch stream, so thousands of nodes
and many watchers stay cheap. A line-based JSON control channel on a UNIX socket
(control.sock in the state directory) lets tests change nodes, cut connections,
simulate restarts and compaction, rotate tokens and read request statistics; see
README.md in this directory and control.py.

Only the Python standard library and the openssl command line tool are used.
"""

import argparse
import asyncio
import base64
import bisect
import email.utils
import gzip
import http
import ipaddress
import json
import os
import random
import re
import secrets
import signal
import ssl
import subprocess
import sys
import time
import traceback
import urllib.parse
import uuid

VERSION_BODY = b"""{
  "major": "1",
  "minor": "24",
  "gitVersion": "v1.24.0+0",
  "gitCommit": "2cc6ddc68588debdbb6806e1b57e73207505324f",
  "gitTreeState": "clean",
  "buildDate": "2022-05-06T09:44:28Z",
  "goVersion": "go1.19.8",
  "compiler": "gc",
  "platform": "linux/amd64"
}"""

READYZ_CHECKS = [
    "ping", "log", "etcd", "informer-sync",
    "poststarthook/start-kube-apiserver-admission-initializer",
    "poststarthook/generic-apiserver-start-informers",
    "poststarthook/priority-and-fairness-config-consumer",
    "poststarthook/priority-and-fairness-filter",
    "poststarthook/start-apiextensions-informers",
    "poststarthook/start-apiextensions-controllers",
    "poststarthook/crd-informer-synced",
    "poststarthook/bootstrap-controller",
    "poststarthook/rbac/bootstrap-roles",
    "poststarthook/scheduling/bootstrap-system-priority-classes",
    "poststarthook/priority-and-fairness-config-producer",
    "poststarthook/start-cluster-authentication-info-controller",
    "poststarthook/start-kube-aggregator-informers",
    "poststarthook/apiservice-registration-controller",
    "poststarthook/apiservice-status-available-controller",
    "poststarthook/kube-apiserver-autoregistration",
    "autoregister-completion",
    "poststarthook/apiservice-openapi-controller",
    "poststarthook/apiservice-openapiv3-controller",
    "shutdown",
]

# API Priority-and-Fairness UIDs as recorded: "exempt" for system:masters, else "global-default".
PF_EXEMPT = ("1ba706bc-aba3-4e5f-b513-6a4f126e79bc", "6bf6cd34-bddf-4a13-8746-54d92f0a8947")
PF_DEFAULT = ("03bf4d51-8d0e-4268-bf80-50b1c3ee9dff", "0e5ec36d-1894-46ba-bf4b-2b6bcb2890b3")

BODY_CHUNK_THRESHOLD = 2048  # Go net/http: larger bodies are sent chunked (fact H3)
GZIP_THRESHOLD = 128 * 1024  # fact H10
MAX_BODY = 3 * 1024 * 1024
MAX_HEAD = 1024 * 1024

PUBLIC_PATHS = ("/version", "/healthz", "/readyz", "/livez")
DISCOVERY_PATHS = PUBLIC_PATHS + ("/api", "/api/v1", "/apis")

PRESETS = {
    "admin": [("*", "*")],
    "flannel": [("get", "pods"), ("get", "nodes"), ("list", "nodes"), ("watch", "nodes"),
                ("patch", "nodes/status")],
    "none": [],
}

BOOKMARK_LINE_TMPL = (
    '{"type":"BOOKMARK","object":{"kind":"Node","apiVersion":"v1","metadata":'
    '{"resourceVersion":"%d","creationTimestamp":null},"spec":{},"status":{"daemonEndpoints":'
    '{"kubeletEndpoint":{"Port":0}},"nodeInfo":{"machineID":"","systemUUID":"","bootID":"",'
    '"kernelVersion":"","osImage":"","containerRuntimeVersion":"","kubeletVersion":"",'
    '"kubeProxyVersion":"","operatingSystem":"","architecture":""}}}}\n')

NODE_INFO_KEYS = ("machineID", "systemUUID", "bootID", "kernelVersion", "osImage",
                  "containerRuntimeVersion", "kubeletVersion", "kubeProxyVersion",
                  "operatingSystem", "architecture")

META_ORDER = ("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion",
              "generation", "creationTimestamp", "deletionTimestamp",
              "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences",
              "finalizers", "managedFields")

# Strategic-merge patch metadata for the Node fields that have it (k8s.io/api/core/v1 tags).
SMP_MERGE_KEYS = {
    ("status", "conditions"): "type",
    ("status", "addresses"): "type",
    ("status", "volumesAttached"): "name",
    ("metadata", "ownerReferences"): "uid",
    ("status", "podIPs"): "ip",  # Pods (fact PO4)
    ("status", "containerStatuses"): "name",
}
SMP_PRIMITIVE_MERGE = {("spec", "podCIDRs"), ("metadata", "finalizers")}
# Lists that must be lists when a patch names them (else 422 "cannot restore slice").
LIST_FIELDS = {("status", "conditions"), ("status", "addresses"), ("status", "images"),
               ("spec", "podCIDRs"), ("spec", "taints"), ("metadata", "finalizers"),
               ("metadata", "ownerReferences"), ("metadata", "managedFields")}

QUALIFIED_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
NAME_PART_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
DNS1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class ApiError(Exception):
    """An error answered with a Kubernetes Status object."""

    def __init__(self, code, reason, message, details=None, meta=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.meta = meta


def now_str():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def gojson(obj):
    """Serialize like Go's encoding/json: compact, UTF-8, HTML characters escaped."""
    s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    if "<" in s or ">" in s or "&" in s or "\u2028" in s or "\u2029" in s:
        s = (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
             .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return s.encode("utf-8", "replace")


def _reject_constant(name):
    raise ValueError("invalid character '%s' looking for beginning of value" % name[0])


def parse_json(data):
    """Parse untrusted JSON bytes; ValueError with a Go-like message on failure."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError("invalid UTF-8 in JSON input at byte %d" % e.start) from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        if not text.strip() or e.pos >= len(text.rstrip()):
            raise ValueError("unexpected end of JSON input") from None
        ch = text[e.pos]
        raise ValueError("invalid character %r looking for beginning of value" % ch) from None
    except RecursionError:
        raise ValueError("exceeded max depth") from None


def status_obj(code, reason, message, details=None, meta=None, success=False):
    o = {"kind": "Status", "apiVersion": "v1", "metadata": meta or {},
         "status": "Success" if success else "Failure"}
    if message is not None:
        o["message"] = message
    if reason is not None:
        o["reason"] = reason
    if details is not None:
        o["details"] = details
    if code is not None:
        o["code"] = code
    return o


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode_continue(rv, start):
    return b64url(json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start},
                             separators=(",", ":")).encode())


def decode_continue(token):
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        d = json.loads(raw)
    except (ValueError, TypeError):
        raise ApiError(400, "BadRequest", "invalid continue token: continue key is not valid: "
                       "illegal base64 data or JSON") from None
    if (not isinstance(d, dict) or d.get("v") != "meta.k8s.io/v1" or not isinstance(d.get("rv"), int)
            or isinstance(d.get("rv"), bool) or not isinstance(d.get("start"), str) or not d["start"]):
        raise ApiError(400, "BadRequest", "invalid continue token: continue key is not valid: "
                       "incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    return d["rv"], d["start"]


def parse_bool(name, value):
    if value in ("1", "t", "T", "TRUE", "true", "True", ""):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ApiError(400, "BadRequest", 'invalid value for %s: strconv.ParseBool: parsing "%s": '
                   "invalid syntax" % (name, value))


def parse_int(name, value):
    if not re.fullmatch(r"-?[0-9]{1,18}", value or ""):
        raise ApiError(400, "BadRequest", 'invalid value for %s: strconv.ParseInt: parsing "%s": '
                       "invalid syntax" % (name, value))
    return int(value)


def parse_rv(value):
    if not re.fullmatch(r"[0-9]{1,18}", value):
        raise ApiError(400, "BadRequest", 'invalid resource version: strconv.ParseUint: parsing '
                       '"%s": invalid syntax' % value)
    return int(value)


# ---------------------------------------------------------------------------------------
# Patch engines (pure functions on JSON values)


class PatchError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.api = ApiError(code, reason, message, details)


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def _smp_key(item, key):
    return item.get(key) if isinstance(item, dict) else None


def _merge_sorted(left, right, server_order, ident):
    """apimachinery strategicpatch.mergeSortedSlice: interleave server-only (left) items
    into patch (right) items keeping both relative orders."""
    pos = {}
    for i, it in enumerate(server_order):
        pos.setdefault(ident(it), i)
    out = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = pos.get(ident(left[i]))
            ri = pos.get(ident(right[j]))
            if li is not None and ri is not None and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _smp_list(path, orig, patch, order):
    key = SMP_MERGE_KEYS.get(path, "")
    if path in SMP_PRIMITIVE_MERGE:
        patch_vals = []
        for v in patch:
            if isinstance(v, (dict, list)):
                raise PatchError(422, "Invalid", "unable to find api field in struct "
                                 "for the merge of a primitive list")
            if v not in patch_vals:
                patch_vals.append(v)
        if order is not None:
            patch_vals = [v for v in order if v in patch_vals] + [v for v in patch_vals if v not in order]
        server_only = [v for v in orig if v not in patch_vals]
        return _merge_sorted(server_only, patch_vals, orig, lambda v: json.dumps(v, sort_keys=True))
    if not key:
        # No merge strategy: a patch list replaces the list; $patch directives are dropped.
        return [strip_directives(v) for v in patch
                if not (isinstance(v, dict) and v.get("$patch") in ("delete", "replace"))]
    deletes = set()
    merged = []
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(422, "Invalid", "merging an object in json but data type is not "
                             "map[string]interface{}")
        directive = item.get("$patch")
        if directive == "replace":
            return [strip_directives(v) for v in patch if v is not item]
        if key not in item:
            raise PatchError(422, "Invalid", "map: %s does not contain declared merge key: %s"
                             % (json.dumps(item, separators=(",", ":")), key))
        kv = json.dumps(item[key])
        if directive == "delete":
            deletes.add(kv)
            continue
        base = next((o for o in orig if isinstance(o, dict) and json.dumps(o.get(key)) == kv), None)
        merged.append(smp_apply(base if base is not None else {}, item, path + ("[]",)))
    ident = lambda it: json.dumps(_smp_key(it, key))  # noqa: E731
    patch_keys = {ident(m) for m in merged}
    if order is not None:
        rank = {json.dumps(_smp_key(o, key)): i for i, o in enumerate(order)}
        merged.sort(key=lambda m: rank.get(ident(m), len(rank)))
    server_only = [o for o in orig if ident(o) not in patch_keys and ident(o) not in deletes]
    return _merge_sorted(server_only, merged, orig, ident)


def strip_directives(v):
    if isinstance(v, dict):
        return {k: strip_directives(x) for k, x in v.items()
                if not (k.startswith("$setElementOrder/") or k.startswith("$deleteFromPrimitiveList/")
                        or k in ("$patch", "$retainKeys"))}
    if isinstance(v, list):
        return [strip_directives(x) for x in v]
    return v


def smp_apply(orig, patch, path=()):
    """Strategic merge patch for Node objects (merge keys from the core/v1 struct tags)."""
    if not isinstance(patch, dict):
        raise PatchError(400, "BadRequest", "json: cannot unmarshal %s into Go value of type "
                         "map[string]interface {}" % type_name(patch))
    if patch.get("$patch") == "replace":
        return strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    if patch.get("$patch") == "delete":
        return {}
    result = dict(orig) if isinstance(orig, dict) else {}
    for k, v in patch.items():
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(result.get(field), list) and isinstance(v, list):
                result[field] = [x for x in result[field] if x not in v]
    for k, v in patch.items():
        if k.startswith("$"):
            continue
        sub = (path[-1], k) if path else (k,)
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict):
            cur = result.get(k)
            result[k] = smp_apply(cur if isinstance(cur, dict) else {}, v, sub)
        elif isinstance(v, list):
            if sub in LIST_FIELDS or sub in SMP_MERGE_KEYS or sub in SMP_PRIMITIVE_MERGE:
                cur = result.get(k)
                order = patch.get("$setElementOrder/" + k)
                if not isinstance(order, list):
                    order = None
                if sub in SMP_MERGE_KEYS or sub in SMP_PRIMITIVE_MERGE:
                    result[k] = _smp_list(sub, cur if isinstance(cur, list) else [], v, order)
                else:
                    result[k] = strip_directives(v)
            else:
                result[k] = strip_directives(v)
        else:
            if len(path) <= 1 and sub in LIST_FIELDS:
                raise PatchError(422, "Invalid", "cannot restore slice from %s" % type_name(v))
            result[k] = v
    return result


def type_name(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def go_map_repr(v):
    """Go's %v of a map[string]interface{} (used in the 59-style 422 message)."""
    if isinstance(v, dict):
        return "map[" + " ".join("%s:%s" % (k, go_map_repr(v[k])) for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(go_map_repr(x) for x in v) + "]"
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError("JSON pointer must start with /")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _container(doc, parts):
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, dict):
            if p not in cur:
                raise ValueError("missing path")
            cur = cur[p]
        elif isinstance(cur, list):
            if not re.fullmatch(r"0|[1-9][0-9]*", p) or int(p) >= len(cur):
                raise ValueError("bad index")
            cur = cur[int(p)]
        else:
            raise ValueError("not a container")
    return cur


def _get(doc, parts):
    if not parts:
        return doc
    c = _container(doc, parts)
    last = parts[-1]
    if isinstance(c, dict) and last in c:
        return c[last]
    if isinstance(c, list) and re.fullmatch(r"0|[1-9][0-9]*", last) and int(last) < len(c):
        return c[int(last)]
    raise ValueError("missing path")


def _remove(doc, parts):
    c = _container(doc, parts)
    last = parts[-1]
    if isinstance(c, dict) and last in c:
        return c.pop(last)
    if isinstance(c, list) and re.fullmatch(r"0|[1-9][0-9]*", last) and int(last) < len(c):
        return c.pop(int(last))
    raise ValueError("missing path")


def _add(doc, parts, value):
    if not parts:
        return value
    c = _container(doc, parts)
    last = parts[-1]
    if isinstance(c, dict):
        c[last] = value
    elif isinstance(c, list):
        if last == "-":
            c.append(value)
        elif re.fullmatch(r"0|[1-9][0-9]*", last) and int(last) <= len(c):
            c.insert(int(last), value)
        else:
            raise ValueError("bad index")
    else:
        raise ValueError("not a container")
    return doc


def json_patch(doc, ops):
    """RFC 6902 JSON patch; ValueError on any failed operation."""
    if not isinstance(ops, list):
        raise TypeError("json: cannot unmarshal %s into Go value of type jsonpatch.Patch" % type_name(ops))
    doc = json.loads(json.dumps(doc))
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("op"), str) or not isinstance(op.get("path"), str):
            raise ValueError("invalid operation")
        kind = op["op"]
        parts = _pointer(op["path"])
        if kind in ("add", "replace", "test") and "value" not in op:
            raise ValueError("missing value")
        if kind == "add":
            doc = _add(doc, parts, json.loads(json.dumps(op["value"])))
        elif kind == "remove":
            if not parts:
                raise ValueError("cannot remove root")
            _remove(doc, parts)
        elif kind == "replace":
            if not parts:
                doc = op["value"]
            else:
                _get(doc, parts)
                c = _container(doc, parts)
                if isinstance(c, dict):
                    c[parts[-1]] = op["value"]
                else:
                    c[int(parts[-1])] = op["value"]
        elif kind in ("move", "copy"):
            if not isinstance(op.get("from"), str):
                raise ValueError("missing from")
            src = _pointer(op["from"])
            val = _remove(doc, src) if kind == "move" else json.loads(json.dumps(_get(doc, src)))
            doc = _add(doc, parts, val)
        elif kind == "test":
            if _get(doc, parts) != op["value"]:
                raise ValueError("test failed")
        else:
            raise ValueError("unexpected op %s" % kind)
    return doc


# ---------------------------------------------------------------------------------------
# Validation of a Node after a write


def validate_qualified_name(key):
    if "/" in key:
        prefix, name = key.split("/", 1)
        if not prefix or len(prefix) > 253 or not DNS1123_SUBDOMAIN_RE.match(prefix):
            return False
    else:
        name = key
    return bool(name) and len(name) <= 63 and bool(NAME_PART_RE.match(name))


def validate_node(name, old, new):
    """Returns a list of (reason, field, message) causes, empty when valid."""
    causes = []
    meta = new.get("metadata")
    if not isinstance(meta, dict):
        return [("FieldValueInvalid", "metadata", 'Invalid value: "metadata": must be an object')]
    for field in ("labels", "annotations"):
        m = meta.get(field)
        if m is None:
            continue
        if not isinstance(m, dict) or not all(isinstance(v, str) for v in m.values()):
            causes.append(("FieldValueInvalid", "metadata." + field,
                           "Invalid value: %s: must be a map of strings" % json.dumps(field)))
            continue
        if field == "annotations" and sum(len(k) + len(v) for k, v in m.items()) > 262144:
            causes.append(("FieldValueTooLong", "metadata.annotations", "Too long: must have at most 262144 bytes"))
        for k, v in m.items():
            if not validate_qualified_name(k):
                causes.append(("FieldValueInvalid", "metadata." + field,
                               "Invalid value: %s: %s" % (json.dumps(k), QUALIFIED_NAME_MSG)))
            if field == "labels" and (len(v) > 63 or not LABEL_VALUE_RE.match(v)):
                causes.append(("FieldValueInvalid", "metadata.labels",
                               "Invalid value: %s: %s" % (json.dumps(v), LABEL_VALUE_MSG)))
    spec = new.get("spec")
    if not isinstance(spec, dict):
        return causes + [("FieldValueInvalid", "spec", "Invalid value: spec must be an object")]
    cidrs = spec.get("podCIDRs")
    if cidrs is not None:
        if not isinstance(cidrs, list) or not all(isinstance(c, str) for c in cidrs):
            causes.append(("FieldValueInvalid", "spec.podCIDRs", "Invalid value: must be a list of strings"))
        else:
            fams = []
            for i, c in enumerate(cidrs):
                try:
                    fams.append(ipaddress.ip_network(c, strict=False).version)
                except ValueError:
                    causes.append(("FieldValueInvalid", "spec.podCIDRs[%d]" % i,
                                   "Invalid value: %s: must be a valid CIDR" % json.dumps(c)))
            if len(cidrs) > 2 or len(set(fams)) != len(fams):
                causes.append(("FieldValueInvalid", "spec.podCIDRs",
                               "Invalid value: []string{%s}: may specify no more than one CIDR for each IP family"
                               % ", ".join(json.dumps(c) for c in cidrs)))
    if old is not None:
        oc = (old.get("spec") or {}).get("podCIDRs") or []
        if oc and cidrs != oc:
            causes.append(("FieldValueForbidden", "spec.podCIDRs",
                           'Forbidden: node updates may not change podCIDR except from "" to valid'))
    status = new.get("status")
    if not isinstance(status, dict):
        causes.append(("FieldValueInvalid", "status", "Invalid value: status must be an object"))
    else:
        for f in ("conditions", "addresses"):
            lst = status.get(f)
            if lst is not None and (not isinstance(lst, list) or not all(
                    isinstance(c, dict) and isinstance(c.get("type"), str) for c in lst)):
                causes.append(("FieldValueInvalid", "status." + f,
                               "Invalid value: each item needs a string type"))
    return causes


def invalid_error(kind, name, causes):
    msgs = ["%s: %s" % (f, m) for _, f, m in causes]
    text = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (kind, name, text),
                    {"name": name, "kind": kind,
                     "causes": [{"reason": r, "message": m, "field": f} for r, f, m in causes]})


def normalize_node(obj):
    """Put a Node in the server's canonical key order and fill non-omitempty status fields."""
    meta = obj.get("metadata") or {}
    m = {k: meta[k] for k in META_ORDER if k in meta}
    m.update((k, v) for k, v in meta.items() if k not in m)
    # Go serializes maps with sorted keys (struct fields keep their declaration order).
    for k in ("labels", "annotations"):
        if isinstance(m.get(k), dict):
            m[k] = dict(sorted(m[k].items()))
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    status = dict(obj.get("status")) if isinstance(obj.get("status"), dict) else {}
    for k in ("capacity", "allocatable"):
        if isinstance(status.get(k), dict):
            status[k] = dict(sorted(status[k].items()))
    de = status.get("daemonEndpoints")
    if not isinstance(de, dict) or not isinstance(de.get("kubeletEndpoint"), dict):
        status["daemonEndpoints"] = {"kubeletEndpoint": {"Port": 0}}
    ni = status.get("nodeInfo") if isinstance(status.get("nodeInfo"), dict) else {}
    full_ni = {k: ni.get(k, "") for k in NODE_INFO_KEYS}
    full_ni.update((k, v) for k, v in ni.items() if k not in full_ni)
    status["nodeInfo"] = full_ni
    out = {"kind": "Node", "apiVersion": "v1", "metadata": m, "spec": spec, "status": status}
    out.update((k, v) for k, v in obj.items() if k not in out)
    return out


def fields_v1(patch, path=()):
    """A managedFields fieldsV1 tree for the keys a write touched."""
    out = {}
    if not isinstance(patch, dict):
        return out
    for k, v in patch.items():
        if k.startswith("$") or k in ("kind", "apiVersion") or (path == ("metadata",) and k in (
                "name", "uid", "resourceVersion", "creationTimestamp", "managedFields")):
            continue
        sub = (path[-1], k) if path else (k,)
        key = SMP_MERGE_KEYS.get(sub)
        if isinstance(v, dict):
            out["f:" + k] = fields_v1(v, sub)
        elif isinstance(v, list) and key:
            out["f:" + k] = {"k:" + json.dumps({key: it.get(key)}, separators=(",", ":")):
                             fields_v1(it, sub) for it in v if isinstance(it, dict) and key in it}
        elif isinstance(v, list) and sub in SMP_PRIMITIVE_MERGE:
            d = {".": {}}
            d.update(("v:" + json.dumps(x), {}) for x in v)
            out["f:" + k] = d
        else:
            out["f:" + k] = {}
    return out


# ---------------------------------------------------------------------------------------
# Store: nodes, pods, resourceVersion counter, event log, compaction


class NodeRec:
    """A committed Node: the dict and its pre-rendered JSON forms (never mutated)."""

    __slots__ = ("obj", "item", "full", "name", "rv")

    def __init__(self, obj):
        self.obj = obj
        self.name = obj["metadata"]["name"]
        self.rv = int(obj["metadata"]["resourceVersion"])
        self.full = gojson(obj)
        # The LIST form: the same object without kind/apiVersion (fact O1).
        item = dict(obj)
        item.pop("kind", None)
        item.pop("apiVersion", None)
        self.item = gojson(item)


class Event:
    """One watch event, pre-framed as the HTTP/1.1 chunk every watcher writes as is."""

    __slots__ = ("rv", "type", "name", "chunk", "prev")

    def __init__(self, rv, etype, name, full, prev):
        self.rv = rv
        self.type = etype
        self.name = name
        line = b'{"type":"' + etype.encode() + b'","object":' + full + b"}\n"
        self.chunk = b"%x\r\n" % len(line) + line + b"\r\n"
        self.prev = prev

    def line(self):
        return self.chunk[self.chunk.index(b"\r\n") + 2:-2]


class Store:
    def __init__(self, max_events):
        self.rv = 100
        self.nodes = {}
        self.names = []
        self.events = []
        self.event_rvs = []
        self.log_floor = self.rv
        self.etcd_compacted = 0
        self.cache_oldest = self.rv
        self.last_node_event_rv = 0
        self.max_events = max_events
        self.changed = None
        self.res = make_resources(self)

    def notify(self):
        if self.changed is not None and not self.changed.done():
            self.changed.set_result(None)
        self.changed = None

    def wait_future(self):
        if self.changed is None:
            self.changed = asyncio.get_running_loop().create_future()
        return self.changed

    def next_rv(self):
        self.rv += 1
        return self.rv

    def _log(self, etype, name, full, prev):
        ev = Event(self.rv, etype, name, full, prev)
        self.events.append(ev)
        self.event_rvs.append(ev.rv)
        self.last_node_event_rv = ev.rv
        if len(self.events) > self.max_events:
            drop = len(self.events) - self.max_events // 2
            floor = self.events[drop - 1].rv
            del self.events[:drop]
            del self.event_rvs[:drop]
            self.log_floor = floor
            self.etcd_compacted = max(self.etcd_compacted, floor)
            self.cache_oldest = max(self.cache_oldest, floor)
        self.notify()

    def commit(self, obj, etype):
        """Store a new state of a Node (obj is owned by the store afterwards)."""
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self.next_rv())
        rec = NodeRec(normalize_node(obj))
        prev = self.nodes.get(rec.name)
        if prev is None:
            bisect.insort(self.names, rec.name)
        self.nodes[rec.name] = rec
        self._log(etype, rec.name, rec.full, prev)
        return rec

    def delete(self, name):
        prev = self.nodes.pop(name)
        self.names.pop(bisect.bisect_left(self.names, name))
        obj = json.loads(prev.full)
        obj["metadata"]["resourceVersion"] = str(self.next_rv())
        self._log("DELETED", name, gojson(obj), prev)
        return prev

    def since(self, rv):
        """Events with rv > the given one, or None if the log no longer reaches back."""
        if rv < self.log_floor:
            return None
        return self.events[bisect.bisect_right(self.event_rvs, rv):]

    def snapshot(self, rv):
        """(sorted names, name->NodeRec) as of the given resourceVersion."""
        if rv >= self.rv:
            return self.names, self.nodes
        state = dict(self.nodes)
        for ev in reversed(self.since(rv) or []):
            if ev.type == "ADDED":
                state.pop(ev.name, None)
            else:
                state[ev.name] = ev.prev
        return sorted(state), state

    def compact(self, watch_cache=True):
        self.etcd_compacted = self.rv
        if watch_cache:
            self.cache_oldest = self.rv
        floor = min(self.etcd_compacted, self.cache_oldest)
        keep = bisect.bisect_right(self.event_rvs, floor)
        del self.events[:keep]
        del self.event_rvs[:keep]
        self.log_floor = max(self.log_floor, floor)
        for res in self.res.values():
            res.compact(floor)
        return self.rv

    def restart(self):
        """A restarted apiserver's watch cache starts after its own start-up writes."""
        self.next_rv()
        self.cache_oldest = self.rv


# ---------------------------------------------------------------------------------------
# Namespaces, Pods, NetworkPolicies (recordings 100-196, README facts N, NP, PO, RV)

NS_BOOKMARK = ('{"type":"BOOKMARK","object":{"kind":"Namespace","apiVersion":"v1","metadata":'
               '{"resourceVersion":"%d","creationTimestamp":null},"spec":{},"status":{}}}\n')
POD_BOOKMARK = ('{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":'
                '{"resourceVersion":"%d","creationTimestamp":null},"spec":{"containers":null},"status":{}}}\n')
NETPOL_BOOKMARK = ('{"type":"BOOKMARK","object":{"kind":"NetworkPolicy","apiVersion":"networking.k8s.io/v1",'
                   '"metadata":{"resourceVersion":"%d","creationTimestamp":null},"spec":{"podSelector":{}},'
                   '"status":{}}}\n')

DNS1123_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
POD_SPEC_ORDER = ("volumes", "initContainers", "containers", "restartPolicy", "terminationGracePeriodSeconds",
                  "activeDeadlineSeconds", "dnsPolicy", "nodeSelector", "serviceAccountName", "serviceAccount",
                  "nodeName", "hostNetwork", "hostPID", "hostIPC", "securityContext", "hostname", "subdomain",
                  "affinity", "schedulerName", "tolerations", "priorityClassName", "priority", "enableServiceLinks",
                  "preemptionPolicy")
CONTAINER_ORDER = ("name", "image", "command", "args", "workingDir", "ports", "env", "resources", "volumeMounts",
                   "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy", "securityContext")
CONTAINER_PORT_ORDER = ("name", "hostPort", "containerPort", "protocol", "hostIP")
POD_STATUS_ORDER = ("phase", "conditions", "message", "reason", "hostIP", "podIP", "podIPs", "startTime",
                    "containerStatuses", "qosClass")
PROTOCOLS = ("TCP", "UDP", "SCTP")


def ordered(d, order):
    if not isinstance(d, dict):
        return d
    out = {k: d[k] for k in order if k in d}
    out.update((k, v) for k, v in d.items() if k not in out)
    return out


def norm_meta(meta):
    m = ordered(meta, META_ORDER)
    for k in ("labels", "annotations"):
        if isinstance(m.get(k), dict):
            m[k] = dict(sorted(m[k].items()))
    return m


def normalize_obj(kind, api, obj, spec_fn=None, status_fn=None):
    out = {"kind": kind, "apiVersion": api, "metadata": norm_meta(obj.get("metadata") or {})}
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    out["spec"] = spec_fn(spec) if spec_fn else spec
    status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    out["status"] = status_fn(status) if status_fn else status
    return out


def pod_spec_order(spec):
    spec = ordered(spec, POD_SPEC_ORDER)
    for key in ("containers", "initContainers"):
        if isinstance(spec.get(key), list):
            spec[key] = [ordered(c, CONTAINER_ORDER) for c in spec[key]]
            for c in spec[key]:
                if isinstance(c, dict) and isinstance(c.get("ports"), list):
                    c["ports"] = [ordered(p, CONTAINER_PORT_ORDER) for p in c["ports"]]
    return spec


def pod_status_order(status):
    status = ordered(status, POD_STATUS_ORDER)
    for key, order in (("conditions", ("type", "status", "lastProbeTime", "lastTransitionTime", "reason", "message")),
                       ("containerStatuses", ("name", "state", "lastState", "ready", "restartCount", "image",
                                              "imageID", "containerID", "started"))):
        if isinstance(status.get(key), list):
            status[key] = [ordered(x, order) for x in status[key]]
    if isinstance(status.get("conditions"), list):
        for c in status["conditions"]:
            if isinstance(c, dict):
                c.setdefault("lastProbeTime", None)  # a non-omitempty Go field
        status["conditions"] = [ordered(x, ("type", "status", "lastProbeTime")) for x in status["conditions"]]
    return status


def netpol_spec_order(spec):
    def peer(p):
        return ordered(p, ("podSelector", "namespaceSelector", "ipBlock"))

    def port(p):
        return ordered(p, ("protocol", "port", "endPort"))

    def rule(r, peers):
        r = ordered(r, ("ports", peers))
        if isinstance(r, dict):
            if isinstance(r.get("ports"), list):
                r["ports"] = [port(p) for p in r["ports"]]
            if isinstance(r.get(peers), list):
                r[peers] = [peer(p) for p in r[peers]]
        return r

    spec = ordered(spec, ("podSelector", "ingress", "egress", "policyTypes"))
    for key, peers in (("ingress", "from"), ("egress", "to")):
        if isinstance(spec.get(key), list):
            spec[key] = [rule(r, peers) for r in spec[key]]
    return spec


def default_namespace(obj, name):
    meta = obj["metadata"]
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    labels["kubernetes.io/metadata.name"] = name  # fact N1: always, on every write
    meta["labels"] = labels
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")


def default_pod(obj):
    spec = obj.setdefault("spec", {})
    vol = "kube-api-access-" + "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
    spec.setdefault("volumes", []).append({"name": vol, "projected": {"sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                      "fieldPath": "metadata.namespace"}}]}}],
        "defaultMode": 420}})
    for c in spec.get("containers") or []:
        if not isinstance(c, dict):
            continue
        for p in c.get("ports") or []:
            if isinstance(p, dict):
                p.setdefault("protocol", "TCP")
                if spec.get("hostNetwork") is True:
                    p.setdefault("hostPort", p.get("containerPort"))
        c.setdefault("resources", {})
        c.setdefault("volumeMounts", []).append({"name": vol, "readOnly": True,
                                                 "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("imagePullPolicy", "IfNotPresent")
    for k, v in (("restartPolicy", "Always"), ("terminationGracePeriodSeconds", 30), ("dnsPolicy", "ClusterFirst"),
                 ("serviceAccountName", "default"), ("serviceAccount", "default"), ("securityContext", {}),
                 ("schedulerName", "default-scheduler"),
                 ("tolerations", [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                                   "tolerationSeconds": 300},
                                  {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                                   "tolerationSeconds": 300}]),
                 ("priority", 0), ("enableServiceLinks", True), ("preemptionPolicy", "PreemptLowerPriority")):
        spec.setdefault(k, v)
    obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}  # fact PO1: no kubelet, no addresses


def default_netpol(obj):
    spec = obj.setdefault("spec", {})
    for key in ("ingress", "egress"):
        for r in spec.get(key) or []:
            for p in (r.get("ports") or []) if isinstance(r, dict) else []:
                if isinstance(p, dict) and "protocol" not in p:
                    p["protocol"] = "TCP"
    if not spec.get("policyTypes"):  # fact NP2
        spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
    obj["status"] = {}


def _cidr(text):
    try:
        return ipaddress.ip_network(text, strict=False) if isinstance(text, str) and "/" in text else None
    except ValueError:
        return None


def validate_netpol(obj):
    """[(reason, field, message)] as the v1.24 validation reports them (fact NP8)."""
    causes = []
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [("FieldValueRequired", "spec", "Required value")]
    for i, t in enumerate(spec.get("policyTypes") or []):
        if t not in ("Ingress", "Egress"):
            causes.append(("FieldValueNotSupported", "spec.policyTypes[%d]" % i,
                           'Unsupported value: %s: supported values: "Ingress", "Egress"' % json.dumps(t)))
    for key, peers in (("ingress", "from"), ("egress", "to")):
        for ri, rule in enumerate(spec.get(key) or []):
            if not isinstance(rule, dict):
                continue
            for pi, p in enumerate(rule.get("ports") or []):
                f = "spec.%s[%d].ports[%d]" % (key, ri, pi)
                if not isinstance(p, dict):
                    continue
                proto = p.get("protocol", "TCP")
                if proto not in PROTOCOLS:
                    causes.append(("FieldValueNotSupported", f + ".protocol",
                                   'Unsupported value: %s: supported values: "TCP", "UDP", "SCTP"' % json.dumps(proto)))
                port = p.get("port")
                if isinstance(port, int) and not isinstance(port, bool) and not 1 <= port <= 65535:
                    causes.append(("FieldValueInvalid", f + ".port",
                                   "Invalid value: %d: must be between 1 and 65535, inclusive" % port))
                end = p.get("endPort")
                if end is not None:
                    if port is None:
                        causes.append(("FieldValueInvalid", f + ".endPort",
                                       "Invalid value: %s: may not be specified when `port` is not specified" % end))
                    elif isinstance(port, str):
                        causes.append(("FieldValueInvalid", f + ".endPort",
                                       "Invalid value: %s: may not be specified when `port` is non-numeric" % end))
                    elif isinstance(end, int) and end < port:
                        causes.append(("FieldValueInvalid", f + ".endPort",
                                       "Invalid value: %d: must be greater than or equal to `port`" % port))
            for qi, peer in enumerate(rule.get(peers) or []):
                f = "spec.%s[%d].%s[%d]" % (key, ri, peers, qi)
                if not isinstance(peer, dict) or "ipBlock" not in peer:
                    continue
                if "podSelector" in peer or "namespaceSelector" in peer:
                    causes.append(("FieldValueForbidden", f, "Forbidden: may not specify both ipBlock and another peer"))
                    continue
                blk = peer["ipBlock"] if isinstance(peer["ipBlock"], dict) else {}
                net = _cidr(blk.get("cidr"))
                if net is None:
                    causes.append(("FieldValueInvalid", f + ".ipBlock.cidr",
                                   "Invalid value: %s: not a valid CIDR" % json.dumps(blk.get("cidr"))))
                    continue
                for ei, ex in enumerate(blk.get("except") or []):
                    en = _cidr(ex)
                    if en is None or en.version != net.version or not en.subnet_of(net) or en.prefixlen <= net.prefixlen:
                        causes.append(("FieldValueInvalid", f + ".ipBlock.except[%d]" % ei,
                                       "Invalid value: %s: must be a strict subset of `cidr`" % json.dumps(ex)))
    return causes


def validate_pod_status(obj):
    status = obj.get("status") or {}
    ips = status.get("podIPs")
    if not isinstance(ips, list):
        return []
    fams = [ipaddress.ip_address(p["ip"]).version for p in ips
            if isinstance(p, dict) and isinstance(p.get("ip"), str) and _is_ip(p["ip"])]
    if len(fams) != len(ips) or len(set(fams)) != len(fams):
        shown = ", ".join('core.PodIP{IP:"%s"}' % (p.get("ip") if isinstance(p, dict) else p) for p in ips)
        return [("FieldValueInvalid", "status.podIPs",
                 "Invalid value: []core.PodIP{%s}: may specify no more than one IP for each IP family" % shown)]
    return []


def _is_ip(s):
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False


def parse_label_selector(text):
    """A predicate on a labels dict for the set-based syntax (fact PO8); ApiError when malformed."""
    preds = []
    terms, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            terms.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    terms.append(cur)
    for term in filter(None, (t.strip() for t in terms)):
        m = re.fullmatch(r"([A-Za-z0-9./_-]+)\s+(in|notin)\s+\(([^)]*)\)", term)
        if m:
            key, op, vals = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            preds.append(lambda lb, key=key, op=op, vals=vals: (lb.get(key) in vals) == (op == "in")
                         if key in lb else op == "notin")
            continue
        m = re.fullmatch(r"(!?)([A-Za-z0-9./_-]+)(?:\s*(==|!=|=)\s*([A-Za-z0-9._-]*))?", term)
        if not m:
            raise ApiError(400, "BadRequest", "unable to parse requirement: %s" % term)
        neg, key, op, value = m.groups()
        if op is None:
            preds.append(lambda lb, key=key, neg=neg: (key in lb) != bool(neg))
        else:
            preds.append(lambda lb, key=key, op=op, value=value: (lb.get(key) == value) == (op != "!="))
    return lambda labels: all(p(labels) for p in preds)


class ObjRec:
    """A committed object of a Resource: dict + pre-rendered JSON (never mutated)."""

    __slots__ = ("obj", "item", "full", "name", "rv")

    def __init__(self, key, obj):
        self.obj = obj
        self.name = key
        self.rv = int(obj["metadata"]["resourceVersion"])
        self.full = gojson(obj)
        item = dict(obj)
        item.pop("kind", None)
        item.pop("apiVersion", None)
        self.item = gojson(item)


class Resource:
    """One kind's objects and event log, on the store's shared resourceVersion counter."""

    def __init__(self, store, name, kind, group, namespaced, normalize, bookmark, fields):
        self.store = store
        self.name, self.kind, self.group, self.namespaced = name, kind, group, namespaced
        self.api = group + "/v1" if group else "v1"
        self.normalize = normalize
        self.bookmark = bookmark
        self.fields = fields  # field selector name -> getter
        self.recs = {}
        self.names = []
        self.events = []
        self.event_rvs = []
        self.log_floor = store.rv
        self.last_event_rv = 0

    def full_name(self):
        return self.name + ("." + self.group if self.group else "")

    def details(self, name=None):
        d = {"name": name} if name is not None else {}
        if self.group:
            d["group"] = self.group
        d["kind"] = self.name
        return d

    def not_found(self, name):
        return ApiError(404, "NotFound", '%s "%s" not found' % (self.full_name(), name), self.details(name))

    def _log(self, etype, key, full, prev):
        st = self.store
        ev = Event(st.rv, etype, key, full, prev)
        self.events.append(ev)
        self.event_rvs.append(ev.rv)
        self.last_event_rv = ev.rv
        if len(self.events) > st.max_events:
            drop = len(self.events) - st.max_events // 2
            self.log_floor = self.events[drop - 1].rv
            del self.events[:drop]
            del self.event_rvs[:drop]
        st.notify()

    def commit(self, key, obj, etype):
        obj["metadata"]["resourceVersion"] = str(self.store.next_rv())
        rec = ObjRec(key, self.normalize(obj))
        prev = self.recs.get(key)
        if prev is None:
            bisect.insort(self.names, key)
        self.recs[key] = rec
        self._log(etype, key, rec.full, prev)
        return rec

    def delete(self, key):
        prev = self.recs.pop(key)
        self.names.pop(bisect.bisect_left(self.names, key))
        obj = json.loads(prev.full)
        obj["metadata"]["resourceVersion"] = str(self.store.next_rv())
        self._log("DELETED", key, gojson(obj), prev)
        return prev

    def since(self, rv):
        if rv < self.log_floor:
            return None
        return self.events[bisect.bisect_right(self.event_rvs, rv):]

    def snapshot(self, rv):
        if rv >= self.store.rv:
            return self.names, self.recs
        state = dict(self.recs)
        for ev in reversed(self.since(rv) or []):
            if ev.type == "ADDED":
                state.pop(ev.name, None)
            else:
                state[ev.name] = ev.prev
        return sorted(state), state

    def compact(self, floor):
        keep = bisect.bisect_right(self.event_rvs, floor)
        del self.events[:keep]
        del self.event_rvs[:keep]
        self.log_floor = max(self.log_floor, floor)


def _meta_get(field):
    return lambda o: str((o.get("metadata") or {}).get(field, ""))


def make_resources(store):
    return {
        "namespaces": Resource(store, "namespaces", "Namespace", "", False,
                               lambda o: normalize_obj("Namespace", "v1", o), NS_BOOKMARK,
                               {"metadata.name": _meta_get("name"),
                                "status.phase": lambda o: str((o.get("status") or {}).get("phase", ""))}),
        "pods": Resource(store, "pods", "Pod", "", True,
                         lambda o: normalize_obj("Pod", "v1", o, pod_spec_order, pod_status_order), POD_BOOKMARK,
                         {"metadata.name": _meta_get("name"), "metadata.namespace": _meta_get("namespace"),
                          "spec.nodeName": lambda o: str((o.get("spec") or {}).get("nodeName", "")),
                          "spec.restartPolicy": lambda o: str((o.get("spec") or {}).get("restartPolicy", "")),
                          "spec.schedulerName": lambda o: str((o.get("spec") or {}).get("schedulerName", "")),
                          "spec.serviceAccountName": lambda o: str((o.get("spec") or {}).get("serviceAccountName", "")),
                          "status.phase": lambda o: str((o.get("status") or {}).get("phase", "")),
                          "status.podIP": lambda o: str((o.get("status") or {}).get("podIP", "")),
                          "status.nominatedNodeName": lambda o: ""}),
        "networkpolicies": Resource(store, "networkpolicies", "NetworkPolicy", "networking.k8s.io", True,
                                    lambda o: normalize_obj("NetworkPolicy", "networking.k8s.io/v1", o,
                                                            netpol_spec_order), NETPOL_BOOKMARK,
                                    {"metadata.name": _meta_get("name"),
                                     "metadata.namespace": _meta_get("namespace")}),
    }


# ---------------------------------------------------------------------------------------
# Users and authorization

CONTROL_OBJECT_CMDS = ("add_namespace", "add_pod", "delete_pod", "create", "get", "list", "patch", "delete")


class User:
    def __init__(self, name, token, rules, masters):
        self.name = name
        self.token = token
        self.rules = rules
        self.masters = masters

    def allowed(self, verb, resource):
        for v, r in self.rules:
            if (v == "*" or v == verb) and (r == "*" or r == resource):
                return True
        return False


def parse_rules(spec):
    """'admin' | 'flannel' | 'none' | comma list of VERB/RESOURCE (e.g. get/nodes,patch/nodes/status)."""
    if spec in PRESETS:
        return list(PRESETS[spec])
    rules = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        if "/" not in item:
            raise ValueError("rule %r is not VERB/RESOURCE" % item)
        verb, res = item.split("/", 1)
        if not verb or not res:
            raise ValueError("rule %r is not VERB/RESOURCE" % item)
        rules.append((verb, res))
    return rules


def parse_listen(text):
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:([0-9]{1,5})|([0-9.]+):([0-9]{1,5})", text)
    if not m:
        raise ValueError("--listen %r is not IP:PORT or [IPv6]:PORT" % text)
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4))
    ipaddress.ip_address(host)
    if port > 65535:
        raise ValueError("port out of range in %r" % text)
    return host, port


def host_port(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


# ---------------------------------------------------------------------------------------
# Synthetic nodes


def synthetic_node(name, pod_cidrs, internal_ip, annotations=None, labels=None, ready=True):
    ts = now_str()
    lbl = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
           "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    lbl.update(labels or {})
    ann = {"volumes.kubernetes.io/controller-managed-attach-detach": "true"}
    ann.update(annotations or {})
    mf = [{"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": ts,
           "fieldsType": "FieldsV1", "fieldsV1": fields_v1(
               {"metadata": {"annotations": ann, "labels": lbl}, "spec": {"podCIDR": "", "podCIDRs": pod_cidrs}})},
          {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": ts,
           "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:conditions": {
               "k:{\"type\":\"%s\"}" % t: {"f:lastHeartbeatTime": {}} for t in
               ("DiskPressure", "MemoryPressure", "PIDPressure", "Ready")}, "f:images": {}}},
           "subresource": "status"}]
    conds = [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True" if ready else "False", "KubeletReady" if ready else "KubeletNotReady",
         "kubelet is posting ready status. AppArmor enabled" if ready else "container runtime network not ready"),
    ]
    h = uuid.uuid5(uuid.NAMESPACE_DNS, name).hex
    spec = {}
    if pod_cidrs:
        spec = {"podCIDR": pod_cidrs[0], "podCIDRs": list(pod_cidrs)}
    return {
        "kind": "Node", "apiVersion": "v1",
        "metadata": {"name": name, "labels": lbl, "annotations": ann, "managedFields": mf},
        "spec": spec,
        "status": {
            "capacity": {"cpu": "4", "ephemeral-storage": "81106868Ki", "hugepages-1Gi": "0",
                         "hugepages-2Mi": "0", "memory": "16393244Ki", "pods": "110"},
            "allocatable": {"cpu": "4", "ephemeral-storage": "74747526911", "hugepages-1Gi": "0",
                            "hugepages-2Mi": "0", "memory": "16290844Ki", "pods": "110"},
            "conditions": [{"type": t, "status": s, "lastHeartbeatTime": ts, "lastTransitionTime": ts,
                            "reason": r, "message": m} for t, s, r, m in conds],
            "addresses": ([{"type": "InternalIP", "address": internal_ip}] if internal_ip else [])
            + [{"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"machineID": h, "systemUUID": str(uuid.UUID(h)), "bootID": str(uuid.uuid4()),
                         "kernelVersion": "5.15.0-76-generic", "osImage": "Ubuntu 22.04.2 LTS",
                         "containerRuntimeVersion": "containerd://1.6.21", "kubeletVersion": "v1.24.0",
                         "kubeProxyVersion": "v1.24.0", "operatingSystem": "linux", "architecture": "amd64"},
            "images": [
                {"names": ["registry.k8s.io/kube-proxy@sha256:a34a3eb3a9fd226b3c1661df8d0347db3e64822d95b8ca0ca9f0abce07592f27",
                           "registry.k8s.io/kube-proxy:v1.24.0"], "sizeBytes": 39515042},
                {"names": ["registry.k8s.io/pause@sha256:1e5f6b619c4f3a64cdb3e3e04fac9ecffbb6bccd342117899ec161e3c9b83bb5",
                           "registry.k8s.io/pause:3.7"], "sizeBytes": 311278},
            ],
        },
    }


def shorthand_node(d):
    """{name, podCIDR, podCIDRs, internalIP, annotations, labels, ready} -> Node object."""
    name = d.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("name is required")
    cidrs = d.get("podCIDRs")
    if cidrs is None:
        cidrs = [d["podCIDR"]] if d.get("podCIDR") else []
    if not isinstance(cidrs, list) or not all(isinstance(c, str) for c in cidrs):
        raise ValueError("podCIDRs must be a list of strings")
    for key in ("annotations", "labels"):
        if d.get(key) is not None and not isinstance(d[key], dict):
            raise ValueError("%s must be an object" % key)
    ip = d.get("internalIP")
    if ip is not None and not isinstance(ip, str):
        raise ValueError("internalIP must be a string")
    return synthetic_node(name, cidrs, ip, d.get("annotations"), d.get("labels"), d.get("ready", True) is not False)


# ---------------------------------------------------------------------------------------
# HTTP plumbing


class Request:
    __slots__ = ("method", "target", "path", "query", "version", "headers", "body", "verb")


class Conn:
    """One client connection; buffers bytes read ahead while a watch is running."""

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.buf = bytearray()
        self.eof = False
        self.task = None

    async def fill(self):
        data = await self.reader.read(65536)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    async def read_head(self):
        while True:
            idx = self.buf.find(b"\r\n\r\n")
            if idx >= 0:
                head = bytes(self.buf[:idx])
                del self.buf[:idx + 4]
                return head
            if len(self.buf) > MAX_HEAD:
                raise ValueError("request head too large")
            if self.eof or not await self.fill():
                if self.buf.strip():
                    raise ValueError("truncated request head")
                return None

    async def read_exact(self, n):
        while len(self.buf) < n:
            if self.eof or not await self.fill():
                raise ConnectionError("client closed during request body")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    async def read_line(self):
        while True:
            idx = self.buf.find(b"\r\n")
            if idx >= 0:
                line = bytes(self.buf[:idx])
                del self.buf[:idx + 2]
                return line
            if len(self.buf) > 4096 or self.eof or not await self.fill():
                raise ValueError("bad chunked body")

    async def read_chunked(self):
        body = bytearray()
        while True:
            size_line = (await self.read_line()).split(b";")[0].strip()
            if not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", size_line):
                raise ValueError("bad chunk size")
            size = int(size_line, 16)
            if size == 0:
                while await self.read_line():
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY:
                raise OverflowError()
            body += await self.read_exact(size)
            if await self.read_exact(2) != b"\r\n":
                raise ValueError("bad chunk terminator")


class Watch:
    """An open watch stream; stop = "clean" asks it to end with the terminating chunk."""

    def __init__(self, conn, ident):
        self.conn = conn
        self.ident = ident
        self.stop = None


class Server:
    def __init__(self, args):
        self.args = args
        self.state_dir = os.path.abspath(args.state_dir)
        self.store = Store(args.max_events)
        self.users = {}
        self.listen = [parse_listen(x) for x in (args.listen or ["127.0.0.1:6443"])]
        self.bound = []
        self.servers = []
        self.conns = set()
        self.watches = set()
        self.lists_open = asyncio.Event()  # cleared by hold_lists: node LISTs wait
        self.lists_open.set()
        self.stats = {}
        self.failures = []
        self.listening = False
        self.resume_task = None
        self.shutdown = None
        self.ssl_ctx = None
        self.watch_count = 0
        # --event-log: "<CLOCK_REALTIME ns> <type> <name> <watch>" per event written to a watch.
        self.event_log = open(args.event_log, "a") if args.event_log else None

    # ----- setup

    def load_users(self):
        specs = list(self.args.user or [])
        if self.args.users_file:
            with open(self.args.users_file) as f:
                data = json.load(f)
            if not isinstance(data, list):
                raise ValueError("%s: expected a JSON list of {name, token, verbs}" % self.args.users_file)
            for i, u in enumerate(data):
                if not isinstance(u, dict) or not isinstance(u.get("name"), str):
                    raise ValueError("%s: entry %d needs a string name" % (self.args.users_file, i))
                specs.append("%s:%s:%s" % (u["name"], u.get("token", ""), u.get("verbs", "none")))
        if not specs:
            specs = ["admin::admin", "flannel::flannel"]
        for spec in specs:
            parts = spec.rsplit(":", 2)  # a ServiceAccount's name has colons, a token none
            if len(parts) != 3 or not re.fullmatch(r"[A-Za-z0-9][-A-Za-z0-9_.@:]*", parts[0]):
                raise ValueError("--user %r is not NAME:TOKEN:VERBS" % spec)
            name, token, verbs = parts
            if token and not re.fullmatch(r"[\x21-\x7e]+", token):
                raise ValueError("--user %s: token must be printable ASCII without spaces" % name)
            self.users[name] = User(name, token or secrets.token_hex(16), parse_rules(verbs), verbs == "admin")

    def make_certs(self):
        d = self.state_dir
        ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
        run = lambda *a: subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: E731
        if not (os.path.exists(ca_key) and os.path.exists(ca_crt)):
            run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "3650", "-subj", "/CN=flannel-test-ca",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        key, csr, crt = (os.path.join(d, n) for n in ("apiserver.key", "apiserver.csr", "apiserver.crt"))
        run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=kube-apiserver")
        sans = ["DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
                "DNS:kubernetes.default.svc.cluster.local", "DNS:localhost", "IP:127.0.0.1", "IP:::1"]
        for host, _ in self.listen:
            if "IP:" + host not in sans and ipaddress.ip_address(host).is_unspecified is False:
                sans.append("IP:" + host)
        for extra in self.args.san or []:
            try:
                ipaddress.ip_address(extra)
                sans.append("IP:" + extra)
            except ValueError:
                sans.append("DNS:" + extra)
        ext = os.path.join(d, "apiserver.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\nsubjectAltName=%s\n" % ",".join(sans))
        run("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
            "-out", crt, "-days", "825", "-sha256", "-extfile", ext)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(crt, key)
        ctx.set_alpn_protocols(["http/1.1"])
        self.ssl_ctx = ctx

    def write_atomic(self, name, text, mode=0o600):
        path = os.path.join(self.state_dir, name)
        tmp = path + ".tmp"
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as f:
            f.write(text)
        os.rename(tmp, path)

    def write_user_files(self, user):
        self.write_atomic("token-" + user.name, user.token)
        host, port = self.bound[0]
        if ipaddress.ip_address(host).is_unspecified:
            host = "127.0.0.1" if ":" not in host else "::1"
        server = "https://" + host_port(host, port)
        self.write_atomic("kubeconfig-" + user.name, (
            "apiVersion: v1\nkind: Config\ncurrent-context: test\nclusters:\n- name: test\n  cluster:\n"
            "    server: %s\n    certificate-authority: %s\nusers:\n- name: %s\n  user:\n    token: %s\n"
            "contexts:\n- name: test\n  context:\n    cluster: test\n    user: %s\n")
            % (server, os.path.join(self.state_dir, "ca.crt"), user.name, user.token, user.name))

    def preload(self):
        n = self.args.preload
        if n <= 0:
            return
        net = ipaddress.ip_network(self.args.cluster_cidr, strict=False)
        if self.args.node_cidr_mask < net.prefixlen:
            raise ValueError("--node-cidr-mask is shorter than --cluster-cidr")
        avail = 1 << (self.args.node_cidr_mask - net.prefixlen)
        if n > avail:
            raise ValueError("--cluster-cidr %s has only %d /%d subnets for %d nodes"
                             % (net, avail, self.args.node_cidr_mask, n))
        ipnet = ipaddress.ip_network(self.args.node_ip_cidr or ("198.51.100.0/24" if n <= 250 else "100.64.0.0/10"),
                                     strict=False)
        if n > ipnet.num_addresses - 3:
            raise ValueError("--node-ip-cidr %s is too small for %d nodes" % (ipnet, n))
        size = 1 << (net.max_prefixlen - self.args.node_cidr_mask)
        for i in range(n):
            sub = ipaddress.ip_network((int(net.network_address) + i * size, self.args.node_cidr_mask))
            ip = str(ipnet.network_address + 2 + i)
            name = "node-%05d" % i
            ann = None
            if self.args.preload_annotations:
                mac = "0a:58:%02x:%02x:%02x:%02x" % tuple((i + 1).to_bytes(4, "big"))
                ann = {"flannel.alpha.coreos.com/backend-type": "vxlan",
                       "flannel.alpha.coreos.com/backend-data": '{"VNI":1,"VtepMAC":"%s"}' % mac,
                       "flannel.alpha.coreos.com/kube-subnet-manager": "true",
                       "flannel.alpha.coreos.com/public-ip": ip}
            obj = synthetic_node(name, [str(sub)], ip, ann)
            self.create_node(obj, trusted=True)
        self.store.events.clear()
        self.store.event_rvs.clear()
        self.store.log_floor = self.store.cache_oldest = self.store.rv

    # ----- node operations shared by HTTP handlers and the control channel

    def create_node(self, obj, taint=False, manager=None, trusted=False):
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
            raise ApiError(400, "BadRequest", "the object provided is unrecognized (must be a Node object with metadata)")
        meta = obj["metadata"]
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            raise ApiError(422, "Invalid", 'Node "" is invalid: metadata.name: Required value: name or generateName is required',
                           {"kind": "Node", "causes": [{"reason": "FieldValueRequired", "message": "Required value: name or generateName is required", "field": "metadata.name"}]})
        if len(name) > 253 or not DNS1123_SUBDOMAIN_RE.match(name):
            raise invalid_error("Node", name, [("FieldValueInvalid", "metadata.name",
                                                "Invalid value: %s: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character" % json.dumps(name))])
        if name in self.store.nodes:
            raise ApiError(409, "AlreadyExists", 'nodes "%s" already exists' % name, {"name": name, "kind": "nodes"})
        if not trusted:
            obj = json.loads(gojson(obj))
            obj.setdefault("spec", {})
            obj.setdefault("status", {})
            causes = validate_node(name, None, obj)
            if causes:
                raise invalid_error("Node", name, causes)
        meta = obj["metadata"]
        meta.pop("resourceVersion", None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_str()
        if taint:
            taints = obj["spec"].get("taints") if isinstance(obj["spec"].get("taints"), list) else []
            if not any(isinstance(t, dict) and t.get("key") == "node.kubernetes.io/not-ready" for t in taints):
                taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
            obj["spec"]["taints"] = taints
        self.track_manager(obj, manager, None, obj)
        return self.store.commit(obj, "ADDED")

    def get_node(self, name):
        rec = self.store.nodes.get(name)
        if rec is None:
            raise ApiError(404, "NotFound", 'nodes "%s" not found' % name, {"name": name, "kind": "nodes"})
        return rec

    def update_node(self, name, new, subresource, manager, touched):
        """Commit a candidate new state of an existing node, applying the status/spec
        strategy, immutable metadata, RV precondition and validation."""
        old = self.get_node(name)
        if not isinstance(new, dict):
            raise ApiError(400, "BadRequest", "the object provided is unrecognized")
        if not isinstance(new.get("metadata"), dict):
            new["metadata"] = {}
        want_rv = new["metadata"].get("resourceVersion")
        if want_rv not in (None, "") and str(want_rv) != str(old.rv):
            raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on nodes "%s": the object has been modified; '
                           "please apply your changes to the latest version and try again" % name,
                           {"name": name, "kind": "nodes"})
        if new["metadata"].get("name", name) != name:
            raise invalid_error("Node", name, [("FieldValueInvalid", "metadata.name",
                                                "Invalid value: %s: field is immutable" % json.dumps(new["metadata"].get("name")))])
        oldobj = old.obj
        if subresource == "status":
            new["spec"] = oldobj.get("spec", {})
        else:
            new["status"] = oldobj.get("status", {})
        for k in ("name", "uid", "creationTimestamp"):
            if k in oldobj["metadata"]:
                new["metadata"][k] = oldobj["metadata"][k]
        new.setdefault("spec", {})
        causes = validate_node(name, oldobj, new)
        if causes:
            raise invalid_error("Node", name, causes)
        new = json.loads(gojson(new))
        self.track_manager(new, manager, subresource, touched)
        return self.store.commit(new, "MODIFIED")

    def track_manager(self, obj, manager, subresource, touched):
        if not manager:
            return
        mf = obj["metadata"].get("managedFields")
        if not isinstance(mf, list):
            mf = []
        entry = {"manager": manager, "operation": "Update", "apiVersion": "v1", "time": now_str(),
                 "fieldsType": "FieldsV1", "fieldsV1": fields_v1(touched) if isinstance(touched, dict) else {}}
        if subresource:
            entry["subresource"] = subresource
        for i, e in enumerate(mf):
            if isinstance(e, dict) and e.get("manager") == manager and e.get("subresource") == entry.get("subresource"):
                fv = e.get("fieldsV1") if isinstance(e.get("fieldsV1"), dict) else {}
                entry["fieldsV1"] = merge_patch(fv, entry["fieldsV1"])
                mf[i] = entry
                break
        else:
            mf.append(entry)
        obj["metadata"]["managedFields"] = mf

    def delete_node(self, name):
        self.get_node(name)
        return self.store.delete(name)

    # ----- listeners and connections

    async def start_listening(self):
        first = not self.bound
        targets = self.bound if self.bound else self.listen
        self.servers = []
        bound = []
        for host, port in targets:
            srv = await asyncio.start_server(self.handle_conn, host, port, ssl=self.ssl_ctx,
                                             reuse_address=True, backlog=1024, limit=MAX_HEAD)
            self.servers.append(srv)
            bound.append((host, srv.sockets[0].getsockname()[1]))
        if first:
            self.bound = bound
        self.listening = True

    async def stop_listening(self):
        for srv in self.servers:
            srv.close()
        self.servers = []
        self.listening = False

    def cut_all(self):
        n = 0
        for conn in list(self.conns):
            conn.writer.transport.abort()
            n += 1
        return n

    def end_watches(self):
        n = 0
        for w in list(self.watches):
            w.stop = "clean"
            n += 1
        self.store.notify()
        return n

    def user_class(self, user):
        return PF_EXEMPT if user is not None and user.masters else PF_DEFAULT

    def head(self, code, ctype, length, user, nosniff=False, pf=True, extra=()):
        lines = ["HTTP/1.1 %d %s" % (code, http.HTTPStatus(code).phrase),
                 "Audit-Id: " + str(uuid.uuid4()),
                 "Cache-Control: no-cache, private"]
        lines.extend(x for x in extra if x.startswith("Content-Encoding"))
        lines.append("Content-Type: " + ctype)
        lines.extend(x for x in extra if x.startswith("Vary") or x.startswith("Retry-After"))
        if nosniff:
            lines.append("X-Content-Type-Options: nosniff")
        if pf:
            fs, pl = self.user_class(user)
            lines.append("X-Kubernetes-Pf-Flowschema-Uid: " + fs)
            lines.append("X-Kubernetes-Pf-Prioritylevel-Uid: " + pl)
        lines.append("Date: " + email.utils.formatdate(usegmt=True))
        lines.append("Content-Length: %d" % length if length is not None else "Transfer-Encoding: chunked")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def send(self, conn, req, code, body, user, ctype="application/json", nosniff=False, pf=True,
                   extra=(), gzip_ok=True):
        if isinstance(body, (list, tuple)):
            parts = body
            size = sum(len(p) for p in parts)
        else:
            parts = [body]
            size = len(body)
        extra = list(extra)
        if gzip_ok and size > GZIP_THRESHOLD and "gzip" in req.headers.get("accept-encoding", ""):
            parts = [gzip.compress(b"".join(parts), compresslevel=1)]
            size = len(parts[0])
            extra += ["Content-Encoding: gzip", "Vary: Accept-Encoding"]
            chunked = True
        else:
            chunked = size > BODY_CHUNK_THRESHOLD
        w = conn.writer
        w.write(self.head(code, ctype, None if chunked else size, user, nosniff, pf, extra))
        if req.method != "HEAD":
            if chunked:
                if size:
                    w.write(b"%x\r\n" % size)
                    w.writelines(parts)
                    w.write(b"\r\n")
                w.write(b"0\r\n\r\n")
            else:
                w.writelines(parts)
        await w.drain()
        self.count(req, code)

    async def send_status(self, conn, req, err, user, pf=True):
        body = gojson(status_obj(err.code, err.reason, err.message, err.details, err.meta)) + b"\n"
        if err.code == 429:
            extra = ["Retry-After: %d" % (err.details or {}).get("retryAfterSeconds", 1)]
        else:
            extra = []
        await self.send(conn, req, err.code, body, user, nosniff=(err.code == 403), pf=pf, extra=extra)

    def count(self, req, code):
        key = (getattr(req, "verb", req.method), req.method, req.path, code)
        self.stats[key] = self.stats.get(key, 0) + 1

    async def handle_conn(self, reader, writer):
        conn = Conn(reader, writer)
        conn.task = asyncio.current_task()
        self.conns.add(conn)
        try:
            while not conn.eof:
                keep = await self.handle_one(conn)
                if not keep:
                    break
        except (ConnectionError, ssl.SSLError, OSError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # shutdown: the connection is being torn down
        finally:
            self.conns.discard(conn)
            try:
                writer.close()
            except (ConnectionError, OSError, RuntimeError):
                pass

    async def bad_request(self, conn, text):
        conn.writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                          b"Connection: close\r\n\r\n400 Bad Request: " + text.encode())
        await conn.writer.drain()

    async def handle_one(self, conn):
        try:
            head = await conn.read_head()
        except ValueError as e:
            await self.bad_request(conn, str(e))
            return False
        if head is None:
            return False
        try:
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ")
            if not version.startswith("HTTP/1.") or not target.startswith("/") or not method.isalpha():
                raise ValueError("malformed request line")
            headers = {}
            for line in lines[1:]:
                k, sep, v = line.partition(":")
                if not sep or not k or k != k.strip():
                    raise ValueError("malformed header line")
                k = k.lower()
                headers[k] = headers[k] + ", " + v.strip() if k in headers else v.strip()
        except ValueError as e:
            await self.bad_request(conn, str(e))
            return False
        req = Request()
        req.method, req.target, req.version, req.headers = method, target, version, headers
        u = urllib.parse.urlsplit(target)
        req.path = urllib.parse.unquote(u.path)
        try:
            req.query = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True, strict_parsing=False))
        except ValueError:
            req.query = {}
        keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
        if headers.get("expect", "").lower() == "100-continue":
            conn.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            if "chunked" in headers.get("transfer-encoding", "").lower():
                req.body = await conn.read_chunked()
            else:
                cl = headers.get("content-length", "0") or "0"
                if not re.fullmatch(r"[0-9]{1,12}", cl):
                    raise ValueError("bad Content-Length")
                if int(cl) > MAX_BODY:
                    raise OverflowError()
                req.body = await conn.read_exact(int(cl))
        except OverflowError:
            req.verb = req.method
            await self.send_status(conn, req, ApiError(413, "RequestEntityTooLarge",
                                                       "Request entity too large: limit is %d" % MAX_BODY), None)
            return False
        except ValueError as e:
            await self.bad_request(conn, str(e))
            return False
        req.verb = req.method.lower()
        user = None
        try:
            user = self.authenticate(req)
            return await self.route(conn, req, user) and keep
        except ApiError as e:
            await self.send_status(conn, req, e, user, pf=(e.code != 401))
            return keep
        except (ConnectionError, OSError, ssl.SSLError):
            raise
        except Exception:  # a bug here must not take the server down; answer like Go's panic handler
            traceback.print_exc()
            err = ApiError(500, "InternalError", "Internal error occurred: %s" % sys.exc_info()[1])
            await self.send_status(conn, req, err, user)
            return False

    def authenticate(self, req):
        auth = req.headers.get("authorization", "")
        if auth[:7].lower() != "bearer ":
            return None  # anonymous (an unknown scheme is ignored, fact A2)
        token = auth[7:].strip()
        for u in self.users.values():
            if secrets.compare_digest(u.token.encode(), token.encode("utf-8", "replace")):
                return u
        raise ApiError(401, "Unauthorized", "Unauthorized")

    def injected_failure(self, req):
        for f in self.failures:
            if (f["verb"] in ("", req.verb) and req.path.startswith(f["path"]) and f["count"] > 0):
                f["count"] -= 1
                if f["count"] == 0:
                    self.failures.remove(f)
                return f
        return None

    # ----- routing

    async def route(self, conn, req, user):
        path = req.path
        uname = user.name if user else "system:anonymous"
        group = ""
        if path.startswith("/apis/networking.k8s.io/v1/"):
            group = "networking.k8s.io"
            path = "/api/v1/" + path[len("/apis/networking.k8s.io/v1/"):]
        if not path.startswith("/api/") and path != "/api":
            req.verb = {"GET": "get", "HEAD": "get", "POST": "post", "PUT": "put", "PATCH": "patch",
                        "DELETE": "delete"}.get(req.method, req.method.lower())
            if (user is None and path not in PUBLIC_PATHS) or (
                    user is not None and path not in DISCOVERY_PATHS and not user.allowed(req.verb, "*")):
                raise ApiError(403, "Forbidden", 'forbidden: User "%s" cannot %s path "%s"'
                               % (uname, req.verb, path), {})
            return await self.non_resource(conn, req, user)
        parts = [p for p in path.split("/") if p]
        if parts == ["api"] or parts == ["api", "v1"]:
            req.verb = "get"
            if user is None:
                raise ApiError(403, "Forbidden", 'forbidden: User "system:anonymous" cannot get path "%s"' % path, {})
            return await self.non_resource(conn, req, user)
        if parts[1] != "v1":
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        rest = parts[2:]
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace = rest[1]
            rest = rest[2:]
        resource = rest[0]
        if (resource == "networkpolicies") != bool(group):
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        name = rest[1] if len(rest) > 1 else None
        sub = "/".join(rest[2:]) if len(rest) > 2 else None
        is_watch = False
        if req.method == "GET" and name is None and "watch" in req.query:
            is_watch = parse_bool("watch", req.query["watch"])
        verb = {"GET": "watch" if is_watch else ("get" if name else "list"), "HEAD": "get" if name else "list",
                "POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete" if name else "deletecollection"}.get(req.method, req.method.lower())
        req.verb = verb
        full_res = resource + ("/" + sub if sub else "")
        if user is None or not user.allowed(verb, full_res):
            res_name = resource + ("." + group if group else "")
            who = name and '%s "%s"' % (res_name, name) or res_name
            scope = 'in the namespace "%s"' % namespace if namespace else "at the cluster scope"
            details = {"name": name} if name else {}
            if group:
                details["group"] = group
            details["kind"] = resource
            raise ApiError(403, "Forbidden", '%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" %s'
                           % (who, uname, verb, full_res, group, scope), details)
        fail = self.injected_failure(req)
        if fail:
            code = fail["code"]
            reasons = {429: ("TooManyRequests", "Too many requests, please try again later."),
                       500: ("InternalError", "Internal error occurred: injected failure"),
                       503: ("ServiceUnavailable", "The server is currently unable to handle the request"),
                       504: ("Timeout", "Timeout: request did not complete within the allowed duration")}
            reason, msg = reasons.get(code, ("InternalError", "injected failure"))
            raise ApiError(code, reason, msg, {"retryAfterSeconds": fail["retry_after"]} if code == 429 else None)
        if resource == "nodes" and namespace is None and sub in (None, "status"):
            if name is None:
                if req.method in ("GET", "HEAD"):
                    if is_watch:
                        return await self.watch_nodes(conn, req, user)
                    await self.lists_open.wait()
                    return await self.list_nodes(conn, req, user)
                if req.method == "POST":
                    return await self.post_node(conn, req, user)
            else:
                if req.method in ("GET", "HEAD"):
                    return await self.send_obj(conn, req, user, self.get_node(name).full)
                if req.method == "PATCH":
                    return await self.patch_node(conn, req, user, name, sub)
                if req.method == "PUT":
                    return await self.put_node(conn, req, user, name, sub)
                if req.method == "DELETE" and sub is None:
                    rec = self.delete_node(name)
                    body = status_obj(None, None, None, {"name": name, "kind": "nodes", "uid": rec.obj["metadata"].get("uid", "")},
                                      success=True)
                    await self.send(conn, req, 200, gojson(body) + b"\n", user)
                    return True
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})
        res = self.store.res.get(resource)
        if res is not None and (namespace is None or res.namespaced):
            return await self.object_route(conn, req, user, res, namespace, name, sub, is_watch)
        raise ApiError(404, "NotFound", "the server could not find the requested resource", {})

    async def non_resource(self, conn, req, user):
        path = req.path
        if req.method not in ("GET", "HEAD"):
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})
        if path == "/version":
            await self.send(conn, req, 200, VERSION_BODY, user)
        elif path in ("/healthz", "/readyz", "/livez"):
            if "verbose" in req.query:
                checks = READYZ_CHECKS if path == "/readyz" else [c for c in READYZ_CHECKS if c not in ("informer-sync", "shutdown")]
                body = "".join("[+]%s ok\n" % c for c in checks) + "%s check passed\n" % path[1:]
                body = body.encode()
            else:
                body = b"ok"
            await self.send(conn, req, 200, body, user, ctype="text/plain; charset=utf-8", nosniff=True)
        elif path == "/api":
            host = req.headers.get("host", "")
            body = {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]}
            await self.send(conn, req, 200, gojson(body) + b"\n", user)
        elif path == "/api/v1":
            res = [{"name": "nodes", "singularName": "", "namespaced": False, "kind": "Node",
                    "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                    "shortNames": ["no"], "storageVersionHash": "XwShjMxG9Fs="},
                   {"name": "nodes/status", "singularName": "", "namespaced": False, "kind": "Node",
                    "verbs": ["get", "patch", "update"]},
                   {"name": "namespaces", "singularName": "", "namespaced": False, "kind": "Namespace",
                    "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"], "shortNames": ["ns"]},
                   {"name": "pods", "singularName": "", "namespaced": True, "kind": "Pod",
                    "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"], "shortNames": ["po"]},
                   {"name": "pods/status", "singularName": "", "namespaced": True, "kind": "Pod",
                    "verbs": ["get", "patch", "update"]}]
            body = {"kind": "APIResourceList", "groupVersion": "v1", "resources": res}
            await self.send(conn, req, 200, gojson(body) + b"\n", user)
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        return True

    def pretty(self, req):
        ua = req.headers.get("user-agent", "")
        return (ua.startswith("curl") or ua.startswith("Wget")) and req.query.get("pretty") != "false" \
            or req.query.get("pretty") == "true"

    async def send_obj(self, conn, req, user, full, code=200):
        if self.pretty(req):
            body = json.dumps(json.loads(full), indent=2, ensure_ascii=False).encode()
        else:
            body = [full, b"\n"]
        await self.send(conn, req, code, body, user)
        return True

    # ----- LIST

    def selectors(self, req):
        """Returns a predicate on a Node dict for fieldSelector/labelSelector, or None."""
        preds = []
        fs = req.query.get("fieldSelector", "")
        for term in filter(None, fs.split(",")):
            m = re.fullmatch(r"([A-Za-z0-9.]+)\s*(==|!=|=)\s*(.*)", term)
            if not m:
                raise ApiError(400, "BadRequest", 'invalid selector: \'%s\'; can\'t understand \'%s\'' % (fs, term))
            field, op, value = m.groups()
            if field not in ("metadata.name", "spec.unschedulable"):
                raise ApiError(400, "BadRequest", '"%s" is not a known field selector: only "metadata.name", "spec.unschedulable"' % field)
            def fp(o, field=field, op=op, value=value):
                v = o["metadata"].get("name") if field == "metadata.name" else str(bool(o["spec"].get("unschedulable"))).lower()
                return (v == value) == (op != "!=")
            preds.append(fp)
        ls = req.query.get("labelSelector", "")
        for term in filter(None, ls.split(",")):
            term = term.strip()
            m = re.fullmatch(r"(!?)([A-Za-z0-9./_-]+)(?:\s*(==|!=|=)\s*([A-Za-z0-9._-]*))?", term)
            if not m:
                raise ApiError(400, "BadRequest", "unable to parse requirement: %s" % term)
            neg, key, op, value = m.groups()
            def lp(o, neg=neg, key=key, op=op, value=value):
                labels = o["metadata"].get("labels") or {}
                if op is None:
                    return (key in labels) != bool(neg)
                return (labels.get(key) == value) == (op != "!=")
            preds.append(lp)
        if not preds:
            return None
        return lambda o: all(p(o) for p in preds)

    async def wait_rv(self, rv):
        end = time.monotonic() + 3
        while self.store.rv < rv and time.monotonic() < end:
            try:
                await asyncio.wait_for(asyncio.shield(self.store.wait_future()), end - time.monotonic())
            except asyncio.TimeoutError:
                break
        if self.store.rv < rv:
            raise ApiError(504, "Timeout", "Timeout: Too large resource version: %d, current: %d" % (rv, self.store.rv),
                           {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                            "retryAfterSeconds": 1})

    async def list_nodes(self, conn, req, user):
        q = req.query
        st = self.store
        limit = parse_int("limit", q["limit"]) if q.get("limit") else 0
        cont = q.get("continue", "")
        rv_param = q.get("resourceVersion", "")
        match = q.get("resourceVersionMatch", "")
        if match not in ("", "Exact", "NotOlderThan"):
            raise ApiError(400, "BadRequest", 'invalid value for resourceVersionMatch: "%s"' % match)
        if match and not rv_param:
            raise ApiError(422, "Invalid", "resourceVersionMatch is forbidden unless resourceVersion is provided", {})
        pred = self.selectors(req)
        start = ""
        if cont:
            if rv_param:
                raise ApiError(400, "BadRequest", "specifying resource version is not allowed when using continue")
            crv, start = decode_continue(cont)
            if crv == -1:
                at = st.rv
            elif crv < max(st.etcd_compacted, st.log_floor):
                raise ApiError(410, "Expired",
                               "The provided continue parameter is too old to display a consistent list result. You can start "
                               "a new list without the continue parameter, or use the continue token in this response to retrieve "
                               "the remainder of the results. Continuing with the provided token results in an inconsistent list "
                               "- objects that were created, modified, or deleted between the time the first chunk was returned "
                               "and now may show up in the list.", None, {"continue": encode_continue(-1, start)})
            else:
                at = crv
        elif rv_param and rv_param != "0" and (limit > 0 or match == "Exact"):
            at = parse_rv(rv_param)
            if at < max(st.etcd_compacted, st.log_floor):
                raise ApiError(410, "Expired", "The resourceVersion for the provided list is too old.")
            if at > st.rv:
                await self.wait_rv(at)
        else:
            if rv_param and rv_param != "0":
                want = parse_rv(rv_param)
                if want > st.rv:
                    await self.wait_rv(want)
            if rv_param == "0":
                limit = 0  # served from the watch cache, which ignores limit
            at = st.rv
        names, nodes = st.snapshot(at)
        idx = bisect.bisect_left(names, start) if start else 0
        items = []
        n = len(names)
        while idx < n and (limit <= 0 or len(items) < limit):
            rec = nodes[names[idx]]
            idx += 1
            if pred is None or pred(rec.obj):
                items.append(rec.item)
        meta = {"resourceVersion": str(at)}
        if limit > 0 and idx < n:
            remaining = n - idx if pred is None else sum(1 for nm in names[idx:] if pred(nodes[nm].obj))
            if remaining > 0:
                meta["continue"] = encode_continue(at, names[idx - 1] + "\x00")
                if pred is None:
                    meta["remainingItemCount"] = remaining
        headb = b'{"kind":"NodeList","apiVersion":"v1","metadata":' + gojson(meta) + b',"items":['
        parts = [headb]
        for i, it in enumerate(items):
            if i:
                parts.append(b",")
            parts.append(it)
        parts.append(b"]}\n")
        if self.pretty(req):
            parts = [json.dumps(json.loads(b"".join(parts)), indent=2, ensure_ascii=False).encode()]
        await self.send(conn, req, 200, parts, user)
        return True

    # ----- WATCH

    async def watch_nodes(self, conn, req, user):
        q = req.query
        st = self.store
        rv_param = q.get("resourceVersion", "")
        bookmarks = parse_bool("allowWatchBookmarks", q["allowWatchBookmarks"]) if "allowWatchBookmarks" in q else False
        timeout = parse_int("timeoutSeconds", q["timeoutSeconds"]) if q.get("timeoutSeconds") else 0
        if timeout <= 0:
            timeout = random.uniform(self.args.min_request_timeout, 2 * self.args.min_request_timeout)
        pred = self.selectors(req)
        start_rv = None
        if rv_param and rv_param != "0":
            start_rv = parse_rv(rv_param)
            if start_rv > st.rv:
                await self.wait_rv(start_rv)
        w = conn.writer
        w.write(self.head(200, "application/json", None, user))
        self.count(req, 200)
        too_old = start_rv is not None and start_rv < st.cache_oldest
        if too_old:
            msg = "too old resource version: %d (%d)" % (start_rv, st.cache_oldest)
            line = b'{"type":"ERROR","object":' + gojson(status_obj(410, "Expired", msg)) + b"}\n"
            w.write(b"%x\r\n" % len(line) + line + b"\r\n0\r\n\r\n")
            await w.drain()
            return True
        self.watch_count += 1
        watch = Watch(conn, self.watch_count)
        self.watches.add(watch)
        elog = self.event_log
        logged = []
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        deadline = t0 + timeout
        marks = []
        if bookmarks:
            t = t0 + self.args.bookmark_interval
            while t < deadline - 2:
                marks.append(t)
                t += self.args.bookmark_interval
            marks += [x for x in (deadline - 2, deadline - 1) if x > t0]
        reader_task = None
        try:
            if start_rv is None:
                cursor = st.rv
                for name in st.names:
                    rec = st.nodes[name]
                    if pred is None or pred(rec.obj):
                        line = b'{"type":"ADDED","object":' + rec.full + b"}\n"
                        w.write(b"%x\r\n" % len(line) + line + b"\r\n")
                        if elog:
                            logged.append("%d ADDED %s %d\n" % (time.time_ns(), name, watch.ident))
                        if w.transport.get_write_buffer_size() > 1 << 20:
                            await w.drain()
            else:
                cursor = start_rv
            watch_start = cursor
            reader_task = asyncio.ensure_future(conn.fill())
            while True:
                evs = st.since(cursor)
                if evs is None:
                    break  # the watcher fell behind the event log: end it, the client re-watches
                for ev in evs:
                    if pred is None or pred(json.loads(ev.line())["object"]):
                        w.write(ev.chunk)
                        if elog:
                            # Taken once the chunk is handed to the transport, which
                            # encrypts it and sends it at once unless the socket is full.
                            logged.append("%d %s %s %d\n" % (time.time_ns(), ev.type, ev.name, watch.ident))
                    cursor = ev.rv
                    if w.transport.get_write_buffer_size() > 1 << 20:
                        await w.drain()
                if logged:
                    elog.write("".join(logged))
                    elog.flush()
                    logged.clear()
                await w.drain()
                if watch.stop or w.transport.is_closing():
                    break
                now = loop.time()
                if marks and now >= marks[0] - 0.01:
                    marks.pop(0)
                    if st.last_node_event_rv > watch_start:
                        line = (BOOKMARK_LINE_TMPL % st.last_node_event_rv).encode()
                        w.write(b"%x\r\n" % len(line) + line + b"\r\n")
                    continue
                if now >= deadline:
                    break
                wake = min([deadline] + marks[:1]) - now
                fut = st.wait_future()
                done, _ = await asyncio.wait({fut, reader_task}, timeout=max(wake, 0),
                                             return_when=asyncio.FIRST_COMPLETED)
                if reader_task in done:
                    if reader_task.exception() is not None or not reader_task.result():
                        return False  # client went away
                    reader_task = asyncio.ensure_future(conn.fill())
            if not w.transport.is_closing():
                w.write(b"0\r\n\r\n")
                await w.drain()
            return True
        finally:
            self.watches.discard(watch)
            if reader_task is not None and not reader_task.done():
                reader_task.cancel()
                try:
                    await reader_task
                except (asyncio.CancelledError, ConnectionError, OSError, ssl.SSLError):
                    pass

    # ----- Namespaces, Pods, NetworkPolicies

    def obj_key(self, res, namespace, name):
        return "%s/%s" % (namespace, name) if res.namespaced else name

    def get_obj(self, res, namespace, name):
        rec = res.recs.get(self.obj_key(res, namespace, name))
        if rec is None:
            raise res.not_found(name)
        return rec

    def obj_selectors(self, req, res, namespace):
        preds = []
        if namespace is not None:
            preds.append(lambda o: o["metadata"].get("namespace") == namespace)
        fs = req.query.get("fieldSelector", "")
        for term in filter(None, fs.split(",")):
            m = re.fullmatch(r"([A-Za-z0-9.]+)\s*(==|!=|=)\s*(.*)", term)
            if not m:
                raise ApiError(400, "BadRequest", "invalid selector: '%s'; can't understand '%s'" % (fs, term))
            field, op, value = m.groups()
            get = res.fields.get(field)
            if get is None:
                raise ApiError(400, "BadRequest", "field label not supported: %s" % field)
            preds.append(lambda o, get=get, op=op, value=value: (get(o) == value) == (op != "!="))
        ls = req.query.get("labelSelector", "")
        if ls:
            lp = parse_label_selector(ls)
            preds.append(lambda o, lp=lp: lp(o["metadata"].get("labels") or {}))
        if not preds:
            return None
        return lambda o: all(p(o) for p in preds)

    async def object_route(self, conn, req, user, res, namespace, name, sub, is_watch):
        if name is None:
            if req.method in ("GET", "HEAD"):
                if is_watch:
                    return await self.watch_objects(conn, req, user, res, namespace)
                return await self.list_objects(conn, req, user, res, namespace)
            if req.method == "POST" and (namespace is not None or not res.namespaced):
                return await self.post_object(conn, req, user, res, namespace)
        elif namespace is not None or not res.namespaced:
            if req.method in ("GET", "HEAD") and sub in (None, "status"):
                return await self.send_obj(conn, req, user, self.get_obj(res, namespace, name).full)
            if req.method == "PATCH" and (sub is None or (sub == "status" and res.name != "networkpolicies")):
                return await self.patch_object(conn, req, user, res, namespace, name, sub)
            if req.method == "DELETE" and sub is None:
                return await self.delete_object(conn, req, user, res, namespace, name)
            if req.method == "PUT" and sub is None:
                new = self.parse_body(req)
                old = self.get_obj(res, namespace, name)
                want = (new.get("metadata") or {}).get("resourceVersion") if isinstance(new, dict) else None
                if want not in (None, "") and str(want) != str(old.rv):
                    raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been '
                                   "modified; please apply your changes to the latest version and try again"
                                   % (res.full_name(), name), res.details(name))
                rec = self.update_object(res, namespace, name, new, None, self.manager(req), new)
                return await self.send_obj(conn, req, user, rec.full)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})

    async def list_objects(self, conn, req, user, res, namespace):
        q = req.query
        st = self.store
        limit = parse_int("limit", q["limit"]) if q.get("limit") else 0
        cont = q.get("continue", "")
        rv_param = q.get("resourceVersion", "")
        match = q.get("resourceVersionMatch", "")
        pred = self.obj_selectors(req, res, namespace)
        start = ""
        if cont:
            crv, start = decode_continue(cont)
            if crv < max(st.etcd_compacted, res.log_floor):
                raise ApiError(410, "Expired", "The provided continue parameter is too old to display a consistent list "
                               "result. You can start a new list without the continue parameter, or use the continue "
                               "token in this response to retrieve the remainder of the results. Continuing with the "
                               "provided token results in an inconsistent list - objects that were created, modified, "
                               "or deleted between the time the first chunk was returned and now may show up in the "
                               "list.", None, {"continue": encode_continue(-1, start)})
            at = crv
        elif rv_param and rv_param != "0" and (limit > 0 or match == "Exact"):
            at = parse_rv(rv_param)
            if at < max(st.etcd_compacted, res.log_floor):
                raise ApiError(410, "Expired", "The resourceVersion for the provided list is too old.")
        else:
            if rv_param == "0":
                limit = 0  # the watch cache ignores limit (fact PO9)
            at = st.rv
        names, recs = res.snapshot(at)
        if namespace is not None:
            lo = bisect.bisect_left(names, namespace + "/")
            hi = bisect.bisect_left(names, namespace + "0")  # '0' follows '/'
            names = names[lo:hi]
        idx = bisect.bisect_left(names, start) if start else 0
        items = []
        n = len(names)
        while idx < n and (limit <= 0 or len(items) < limit):
            rec = recs[names[idx]]
            idx += 1
            if pred is None or pred(rec.obj):
                items.append(rec.item)
        meta = {"resourceVersion": str(at)}
        if limit > 0 and idx < n:
            rest = [nm for nm in names[idx:] if pred is None or pred(recs[nm].obj)]
            if rest:
                meta["continue"] = encode_continue(at, names[idx - 1] + "\x00")
                if pred is None or (namespace is not None and not q.get("labelSelector") and not q.get("fieldSelector")):
                    meta["remainingItemCount"] = len(rest)
        parts = [('{"kind":"%sList","apiVersion":"%s","metadata":' % (res.kind, res.api)).encode() + gojson(meta)
                 + b',"items":[']
        for i, it in enumerate(items):
            if i:
                parts.append(b",")
            parts.append(it)
        parts.append(b"]}\n")
        if self.pretty(req):
            parts = [json.dumps(json.loads(b"".join(parts)), indent=2, ensure_ascii=False).encode()]
        await self.send(conn, req, 200, parts, user)
        return True

    async def watch_objects(self, conn, req, user, res, namespace):
        q = req.query
        st = self.store
        rv_param = q.get("resourceVersion", "")
        bookmarks = parse_bool("allowWatchBookmarks", q["allowWatchBookmarks"]) if "allowWatchBookmarks" in q else False
        timeout = parse_int("timeoutSeconds", q["timeoutSeconds"]) if q.get("timeoutSeconds") else 0
        if timeout <= 0:
            timeout = random.uniform(self.args.min_request_timeout, 2 * self.args.min_request_timeout)
        pred = self.obj_selectors(req, res, namespace)
        start_rv = parse_rv(rv_param) if rv_param and rv_param != "0" else None
        if start_rv is not None and start_rv > st.rv:
            await self.wait_rv(start_rv)
        w = conn.writer
        w.write(self.head(200, "application/json", None, user))
        self.count(req, 200)

        def chunk(line):
            return b"%x\r\n" % len(line) + line + b"\r\n"

        if start_rv is not None and (start_rv < st.cache_oldest or start_rv < res.log_floor):
            msg = "too old resource version: %d (%d)" % (start_rv, max(st.cache_oldest, res.log_floor))
            w.write(chunk(b'{"type":"ERROR","object":' + gojson(status_obj(410, "Expired", msg)) + b"}\n") + b"0\r\n\r\n")
            await w.drain()
            return True
        self.watch_count += 1
        watch = Watch(conn, self.watch_count)
        self.watches.add(watch)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        deadline = t0 + timeout
        marks = []
        if bookmarks:
            t = t0 + self.args.bookmark_interval
            while t < deadline - 2:
                marks.append(t)
                t += self.args.bookmark_interval
            marks += [x for x in (deadline - 2, deadline - 1) if x > t0]
        reader_task = None
        try:
            if start_rv is None:
                cursor = st.rv
                for key in res.names:
                    rec = res.recs[key]
                    if pred is None or pred(rec.obj):
                        w.write(chunk(b'{"type":"ADDED","object":' + rec.full + b"}\n"))
            else:
                cursor = start_rv
            watch_start = cursor
            reader_task = asyncio.ensure_future(conn.fill())
            while True:
                evs = res.since(cursor)
                if evs is None:
                    break
                for ev in evs:
                    cursor = ev.rv
                    if pred is None:
                        w.write(ev.chunk)
                        continue
                    # Filtered watch (fact RV2): entering the selection is ADDED, leaving it a
                    # DELETED carrying the old object with the new resourceVersion.
                    new = json.loads(ev.line())["object"]
                    was = ev.prev is not None and pred(ev.prev.obj)
                    now = pred(new)
                    if ev.type == "DELETED":
                        if was:
                            w.write(ev.chunk)
                    elif now:
                        etype = ev.type if was or ev.type == "ADDED" else "ADDED"
                        w.write(ev.chunk if etype == ev.type else
                                chunk(b'{"type":"ADDED","object":' + gojson(new) + b"}\n"))
                    elif was:
                        old = json.loads(ev.prev.full)
                        old["metadata"]["resourceVersion"] = str(ev.rv)
                        w.write(chunk(b'{"type":"DELETED","object":' + gojson(old) + b"}\n"))
                    if w.transport.get_write_buffer_size() > 1 << 20:
                        await w.drain()
                await w.drain()
                if watch.stop or w.transport.is_closing():
                    break
                now_t = loop.time()
                if marks and now_t >= marks[0] - 0.01:
                    marks.pop(0)
                    if res.last_event_rv > watch_start:
                        w.write(chunk((res.bookmark % res.last_event_rv).encode()))
                    continue
                if now_t >= deadline:
                    break
                wake = min([deadline] + marks[:1]) - now_t
                fut = st.wait_future()
                done, _ = await asyncio.wait({fut, reader_task}, timeout=max(wake, 0),
                                             return_when=asyncio.FIRST_COMPLETED)
                if reader_task in done:
                    if reader_task.exception() is not None or not reader_task.result():
                        return False
                    reader_task = asyncio.ensure_future(conn.fill())
            if not w.transport.is_closing():
                w.write(b"0\r\n\r\n")
                await w.drain()
            return True
        finally:
            self.watches.discard(watch)
            if reader_task is not None and not reader_task.done():
                reader_task.cancel()
                try:
                    await reader_task
                except (asyncio.CancelledError, ConnectionError, OSError, ssl.SSLError):
                    pass

    def invalid(self, res, name, causes):
        err = invalid_error(res.kind + (".extensions" if res.group else ""), name, causes)
        if res.group:
            err.details = {"name": name, "group": "extensions", "kind": res.kind, "causes": err.details["causes"]}
        return err

    def create_object(self, res, namespace, obj, manager=None):
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
            raise ApiError(400, "BadRequest", "the object provided is unrecognized (must be a %s object with metadata)"
                           % res.kind)
        obj = json.loads(gojson(obj))
        meta = obj["metadata"]
        meta.pop("managedFields", None)
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            raise self.invalid(res, "", [("FieldValueRequired", "metadata.name",
                                          "Required value: name or generateName is required")])
        if res.namespaced:
            if meta.get("namespace") not in (None, "", namespace):
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace "
                               "sent on the request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if len(name) > (63 if res.name == "namespaces" else 253) or not (
                DNS1123_LABEL_RE if res.name == "namespaces" else DNS1123_SUBDOMAIN_RE).match(name):
            raise self.invalid(res, name, [("FieldValueInvalid", "metadata.name",
                                            "Invalid value: %s: a lowercase RFC 1123 %s must consist of lower case "
                                            "alphanumeric characters, '-'%s, and must start and end with an "
                                            "alphanumeric character" % (json.dumps(name), "label" if res.name ==
                                                                        "namespaces" else "subdomain",
                                                                        "" if res.name == "namespaces" else " or '.'"))])
        key = self.obj_key(res, namespace, name)
        if key in res.recs:
            raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (res.full_name(), name), res.details(name))
        if res.namespaced and namespace not in self.store.res["namespaces"].recs:
            raise ApiError(404, "NotFound", 'namespaces "%s" not found' % namespace,
                           {"name": namespace, "kind": "namespaces"})
        if res.name == "namespaces":
            default_namespace(obj, name)
        elif res.name == "pods":
            default_pod(obj)
        else:
            causes = validate_netpol(obj)
            if causes:
                raise self.invalid(res, name, causes)
            default_netpol(obj)
            meta["generation"] = 1
        meta.pop("resourceVersion", None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_str()
        self.track_manager(obj, manager, None, obj)
        if res.group and obj["metadata"].get("managedFields"):
            obj["metadata"]["managedFields"][-1]["apiVersion"] = res.api
        return res.commit(key, obj, "ADDED")

    async def post_object(self, conn, req, user, res, namespace):
        ctype = req.headers.get("content-type", "").split(";")[0].strip()
        if ctype not in ("application/json", ""):
            raise ApiError(415, "UnsupportedMediaType", '415: Unsupported Media Type', {})
        rec = self.create_object(res, namespace, self.parse_body(req), self.manager(req))
        return await self.send_obj(conn, req, user, rec.full, code=201)

    def update_object(self, res, namespace, name, new, sub, manager=None, touched=None):
        old = self.get_obj(res, namespace, name)
        if not isinstance(new, dict):
            raise ApiError(400, "BadRequest", "the object provided is unrecognized")
        if not isinstance(new.get("metadata"), dict):
            new["metadata"] = {}
        oldobj = old.obj
        if res.name == "pods":
            if sub == "status":
                new["spec"] = oldobj.get("spec", {})
                st = new.get("status") if isinstance(new.get("status"), dict) else {}
                if st.get("podIP") and not st.get("podIPs"):  # fact PO4 (144)
                    st["podIPs"] = [{"ip": st["podIP"]}]
                if isinstance(st.get("podIPs"), list) and st["podIPs"] and isinstance(st["podIPs"][0], dict):
                    st["podIP"] = st["podIPs"][0].get("ip", st.get("podIP"))
                new["status"] = st
                causes = validate_pod_status(new)
                if causes:
                    raise invalid_error("Pod", name, causes)
            else:
                new["status"] = oldobj.get("status", {})
        for k in ("name", "namespace", "uid", "creationTimestamp", "generation", "deletionTimestamp",
                  "deletionGracePeriodSeconds"):
            if k in oldobj["metadata"]:
                new["metadata"][k] = oldobj["metadata"][k]
        if res.name == "namespaces":
            default_namespace(new, name)
            new["status"] = oldobj.get("status", {})
        elif res.name == "networkpolicies":
            causes = validate_netpol(new)
            if causes:
                raise self.invalid(res, name, causes)
            default_netpol(new)
            if new.get("spec") != oldobj.get("spec"):
                new["metadata"]["generation"] = oldobj["metadata"].get("generation", 1) + 1
        new = json.loads(gojson(new))
        new["metadata"]["resourceVersion"] = oldobj["metadata"]["resourceVersion"]
        probe = res.normalize(json.loads(gojson(new)))
        probe["metadata"].pop("managedFields", None)
        cur = json.loads(old.full)
        cur["metadata"].pop("managedFields", None)
        if probe == cur:
            return old  # a no-op write: same resourceVersion, no event (fact N1, 109)
        self.track_manager(new, manager, sub, touched if touched is not None else new)
        return res.commit(self.obj_key(res, namespace, name), new, "MODIFIED")

    async def patch_object(self, conn, req, user, res, namespace, name, sub):
        ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ("application/strategic-merge-patch+json", "application/merge-patch+json"):
            raise ApiError(415, "UnsupportedMediaType", "415: Unsupported Media Type", {})
        old = self.get_obj(res, namespace, name)
        try:
            patch = parse_json(req.body)
        except ValueError as e:
            raise ApiError(400, "BadRequest", str(e)) from None
        if not isinstance(patch, dict):
            raise ApiError(400, "BadRequest", "json: cannot unmarshal %s into Go value of type map[string]interface {}"
                           % type_name(patch))
        uid = (patch.get("metadata") or {}).get("uid") if isinstance(patch.get("metadata"), dict) else None
        if uid is not None and uid != old.obj["metadata"].get("uid"):
            raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": Precondition failed: UID in '
                           "precondition: %s, UID in object meta: %s" % (res.full_name(), name, uid,
                                                                          old.obj["metadata"].get("uid")),
                           res.details(name))
        try:
            base = json.loads(old.full)
            new = merge_patch(base, patch) if ctype == "application/merge-patch+json" else smp_apply(base, patch)
        except PatchError as e:
            raise e.api from None
        rec = self.update_object(res, namespace, name, new, sub, self.manager(req), patch)
        return await self.send_obj(conn, req, user, rec.full)

    def delete_obj(self, res, namespace, name, grace=None):
        """The server's DELETE semantics (facts N4, PO7, NP6); returns (code, body bytes)."""
        key = self.obj_key(res, namespace, name)
        rec = self.get_obj(res, namespace, name)
        if res.name == "networkpolicies":
            res.delete(key)
            d = res.details(name)
            d["uid"] = rec.obj["metadata"].get("uid", "")
            return gojson(status_obj(None, None, None, d, success=True)) + b"\n"
        obj = json.loads(rec.full)
        meta = obj["metadata"]
        if res.name == "namespaces":
            if "deletionTimestamp" in meta:
                return rec.full
            meta["deletionTimestamp"] = now_str()
            obj["status"]["phase"] = "Terminating"
            rec = res.commit(key, obj, "MODIFIED")
            asyncio.get_running_loop().call_later(self.args.namespace_finalize_delay, self.finalize_namespace, name)
            return rec.full
        if grace is None or grace > 0:
            if "deletionTimestamp" in meta:
                return rec.full
            g = grace or obj["spec"].get("terminationGracePeriodSeconds", 30)
            meta["deletionTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + g))
            meta["deletionGracePeriodSeconds"] = g
            return res.commit(key, obj, "MODIFIED").full  # no kubelet: it stays (fact PO7)
        if "deletionTimestamp" in meta:
            first = time.mktime(time.strptime(meta["deletionTimestamp"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
            meta["deletionTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                      time.gmtime(first - meta.get("deletionGracePeriodSeconds", 0)))
        else:
            meta["deletionTimestamp"] = now_str()
        meta["deletionGracePeriodSeconds"] = 0
        rec = res.commit(key, obj, "MODIFIED")
        res.delete(key)
        return rec.full

    def finalize_namespace(self, name):
        nss = self.store.res["namespaces"]
        rec = nss.recs.get(name)
        if rec is None or "deletionTimestamp" not in rec.obj["metadata"]:
            return
        for rname in ("pods", "networkpolicies"):
            res = self.store.res[rname]
            for key in [k for k in res.names if k.startswith(name + "/")]:
                res.delete(key)
        obj = json.loads(rec.full)
        obj["status"]["conditions"] = [
            {"type": t, "status": "False", "lastTransitionTime": now_str(), "reason": r, "message": m}
            for t, r, m in (("NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"),
                            ("NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions", "All legacy kube types successfully parsed"),
                            ("NamespaceDeletionContentFailure", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
                            ("NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"),
                            ("NamespaceFinalizersRemaining", "ContentHasNoFinalizers", "All content-preserving finalizers finished"))]
        nss.commit(name, obj, "MODIFIED")
        nss.delete(name)

    async def delete_object(self, conn, req, user, res, namespace, name):
        grace = req.query.get("gracePeriodSeconds")
        body = self.delete_obj(res, namespace, name, parse_int("gracePeriodSeconds", grace) if grace else None)
        if not body.endswith(b"\n"):
            body += b"\n"
        await self.send(conn, req, 200, body, user)
        return True

    # ----- writes

    def parse_body(self, req):
        try:
            return parse_json(req.body)
        except ValueError as e:
            raise ApiError(400, "BadRequest", str(e)) from None

    def manager(self, req):
        fm = req.query.get("fieldManager")
        if fm:
            return fm
        ua = req.headers.get("user-agent", "")
        return ua.split("/")[0] or "unknown"

    async def post_node(self, conn, req, user):
        ctype = req.headers.get("content-type", "").split(";")[0].strip()
        if ctype not in ("application/json", ""):
            raise ApiError(415, "UnsupportedMediaType", '415: Unsupported Media Type', {})
        obj = self.parse_body(req)
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", "json: cannot unmarshal %s into Go value of type v1.Node" % type_name(obj))
        if isinstance(obj.get("metadata"), dict):
            obj["metadata"].pop("managedFields", None)
        rec = self.create_node(obj, taint=True, manager=self.manager(req))
        return await self.send_obj(conn, req, user, rec.full, code=201)

    async def put_node(self, conn, req, user, name, sub):
        ctype = req.headers.get("content-type", "").split(";")[0].strip()
        if ctype not in ("application/json", ""):
            raise ApiError(415, "UnsupportedMediaType", '415: Unsupported Media Type', {})
        obj = self.parse_body(req)
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", "json: cannot unmarshal %s into Go value of type v1.Node" % type_name(obj))
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        if meta.get("name") not in (None, name):
            raise ApiError(400, "BadRequest", "the name of the object (%s) does not match the name on the URL (%s)"
                           % (meta.get("name"), name))
        rec = self.update_node(name, obj, sub, self.manager(req), obj)
        return await self.send_obj(conn, req, user, rec.full)

    async def patch_node(self, conn, req, user, name, sub):
        ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ("application/strategic-merge-patch+json", "application/merge-patch+json",
                         "application/json-patch+json"):
            raise ApiError(415, "UnsupportedMediaType", "415: Unsupported Media Type", {})
        old = self.get_node(name)
        base = json.loads(old.full)
        try:
            if ctype == "application/json-patch+json":
                try:
                    ops = parse_json(req.body)
                except ValueError as e:
                    raise ApiError(400, "BadRequest", str(e)) from None
                try:
                    new = json_patch(base, ops)
                except TypeError as e:
                    raise ApiError(400, "BadRequest", str(e)) from None
                except (ValueError, RecursionError):
                    raise ApiError(422, "Invalid", "the server rejected our request due to an error in our request", {}) from None
                touched = new
                if isinstance(new, dict) and isinstance(new.get("metadata"), dict) and \
                        new["metadata"].get("resourceVersion") == str(old.rv):
                    new["metadata"].pop("resourceVersion")
            else:
                try:
                    patch = parse_json(req.body)
                except ValueError as e:
                    if ctype == "application/merge-patch+json":
                        raise ApiError(400, "BadRequest", "Invalid JSON Patch") from None
                    raise ApiError(400, "BadRequest", str(e)) from None
                if not isinstance(patch, dict):
                    raise ApiError(400, "BadRequest", "json: cannot unmarshal %s into Go value of type map[string]interface {}"
                                   % type_name(patch))
                for sect in ("metadata", "spec", "status"):
                    if sect in patch and patch[sect] is not None and not isinstance(patch[sect], dict):
                        raise self.restore_error(patch, "map")
                if ctype == "application/merge-patch+json":
                    new = merge_patch(base, patch)
                else:
                    for sect, field in LIST_FIELDS:
                        v = (patch.get(sect) or {}).get(field) if isinstance(patch.get(sect), dict) else None
                        if v is not None and not isinstance(v, list):
                            raise self.restore_error(patch, "slice")
                    new = smp_apply(base, patch)
                touched = patch
        except PatchError as e:
            raise e.api from None
        except RecursionError:
            raise ApiError(400, "BadRequest", "exceeded max depth") from None
        rec = self.update_node(name, new, sub, self.manager(req), touched)
        return await self.send_obj(conn, req, user, rec.full)

    @staticmethod
    def restore_error(patch, what):
        rep = go_map_repr(patch)
        msg = 'Invalid value: "%s": cannot restore %s from %s' % (rep, what, "string")
        return ApiError(422, "Invalid", ' "" is invalid: patch: ' + msg,
                        {"causes": [{"reason": "FieldValueInvalid", "message": msg, "field": "patch"}]})

    # ----- control channel

    async def handle_control(self, reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                try:
                    req = json.loads(line)
                    if not isinstance(req, dict) or not isinstance(req.get("cmd"), str):
                        raise ValueError("request must be a JSON object with a string \"cmd\"")
                    reply = await self.control(req)
                    reply = dict({"ok": True}, **reply)
                except ApiError as e:
                    reply = {"ok": False, "error": e.message, "code": e.code}
                except (ValueError, KeyError, TypeError) as e:
                    reply = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, OSError, ValueError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def find_user(self, req):
        name = req.get("user")
        if name not in self.users:
            raise ValueError("unknown user %r" % name)
        return self.users[name]

    def control_objects(self, cmd, req):
        """Control commands on Namespaces, Pods and NetworkPolicies (see README.md)."""
        st = self.store
        nss, pods = st.res["namespaces"], st.res["pods"]
        if cmd == "add_namespace":
            obj = req.get("namespace_object") or {"metadata": {"name": req.get("name"),
                                                               "labels": req.get("labels") or {}}}
            return {"resourceVersion": str(self.create_object(nss, None, obj).rv)}
        if cmd == "add_pod":
            ns, name, node = req.get("namespace", "default"), req.get("name"), req.get("nodeName", "")
            if not isinstance(name, str) or not name or not isinstance(ns, str) or not isinstance(node, str):
                raise ValueError("add_pod needs string name, namespace and nodeName")
            if ns not in nss.recs:
                self.create_object(nss, None, {"metadata": {"name": ns}})
            ports = req.get("ports") or []
            if not isinstance(ports, list):
                raise ValueError("ports must be a list of container ports")
            spec = {"nodeName": node, "containers": [{"name": req.get("container", "kube-flannel"),
                                                      "image": req.get("image", "flannel"), "ports": ports}]}
            if not ports:
                del spec["containers"][0]["ports"]
            if req.get("hostNetwork"):
                spec["hostNetwork"] = True
            obj = req.get("pod") or {"metadata": {"name": name, "labels": req.get("labels") or {}}, "spec": spec}
            rec = self.create_object(pods, ns, obj)
            ips = req.get("podIPs") or ([req["podIP"]] if req.get("podIP") else [])
            if ips or req.get("phase", "Running") != "Pending":
                status = {"phase": req.get("phase", "Running")}
                if ips:
                    status.update(podIP=ips[0], podIPs=[{"ip": ip} for ip in ips])
                if req.get("hostIP"):
                    status["hostIP"] = req["hostIP"]
                new = smp_apply(json.loads(rec.full), {"status": status})
                rec = self.update_object(pods, ns, obj["metadata"]["name"], new, "status")
            return {"resourceVersion": str(rec.rv)}
        res = st.res.get(req.get("resource") or {"delete_pod": "pods"}.get(cmd, ""))
        if res is None:
            raise ValueError("resource must be one of %s" % ", ".join(sorted(st.res)))
        ns = req.get("namespace", "default") if res.namespaced else None
        if cmd == "create":
            return {"resourceVersion": str(self.create_object(res, ns, req.get("object")).rv)}
        if cmd == "get":
            return {"object": json.loads(self.get_obj(res, ns, req.get("name")).full)}
        if cmd == "list":
            keys = [k for k in res.names if ns is None or "namespace" not in req or k.startswith(ns + "/")]
            return {"resourceVersion": str(st.rv), "items": [json.loads(res.recs[k].full) for k in keys]}
        if cmd == "patch":
            name = req.get("name")
            new = json.loads(self.get_obj(res, ns, name).full)
            try:
                if "merge_patch" in req:
                    new = merge_patch(new, req["merge_patch"])
                if "patch" in req:
                    new = smp_apply(new, req["patch"])
            except PatchError as e:
                raise e.api from None
            if isinstance(req.get("labels"), dict):
                new["metadata"]["labels"] = merge_patch(new["metadata"].get("labels") or {}, req["labels"])
            sub = "status" if req.get("status") else None
            return {"resourceVersion": str(self.update_object(res, ns, name, new, sub).rv)}
        if cmd in ("delete", "delete_pod"):
            grace = req.get("gracePeriodSeconds", 0 if res.name == "pods" else None)
            self.delete_obj(res, ns, req.get("name"), grace)
            return {"resourceVersion": str(st.rv)}
        raise ValueError("unknown cmd %r" % cmd)

    async def control(self, req):
        cmd = req["cmd"]
        st = self.store
        if cmd == "add_node":
            obj = req["node"] if "node" in req else shorthand_node(req)
            rec = self.create_node(obj)
            return {"resourceVersion": str(rec.rv)}
        if cmd == "modify_node":
            name = req.get("name")
            rec = self.get_node(name)
            new = json.loads(rec.full)
            if "node" in req:
                new = req["node"]
            if "merge_patch" in req:
                new = merge_patch(new, req["merge_patch"])
            if "patch" in req:
                try:
                    new = smp_apply(new, req["patch"])
                except PatchError as e:
                    raise e.api from None
            meta = new.setdefault("metadata", {})
            if isinstance(req.get("annotations"), dict):
                meta["annotations"] = merge_patch(meta.get("annotations") or {}, req["annotations"])
            if isinstance(req.get("labels"), dict):
                meta["labels"] = merge_patch(meta.get("labels") or {}, req["labels"])
            if "podCIDRs" in req or "podCIDR" in req:
                cidrs = req.get("podCIDRs") or ([req["podCIDR"]] if req.get("podCIDR") else [])
                new.setdefault("spec", {})
                new["spec"]["podCIDRs"] = cidrs
                new["spec"]["podCIDR"] = cidrs[0] if cidrs else ""
                if not cidrs:
                    new["spec"].pop("podCIDRs")
                    new["spec"].pop("podCIDR")
            if "internalIP" in req:
                addrs = [a for a in (new.setdefault("status", {}).get("addresses") or []) if a.get("type") != "InternalIP"]
                new["status"]["addresses"] = [{"type": "InternalIP", "address": req["internalIP"]}] + addrs
            meta.pop("resourceVersion", None)
            if not isinstance(new.get("spec"), dict) or not isinstance(new.get("status"), dict):
                raise ValueError("node needs spec and status objects")
            causes = validate_node(name, None, new)
            if causes:
                raise invalid_error("Node", name, causes)
            for k in ("name", "uid", "creationTimestamp"):
                meta[k] = rec.obj["metadata"][k]
            rec = st.commit(json.loads(gojson(new)), "MODIFIED")
            return {"resourceVersion": str(rec.rv)}
        if cmd == "delete_node":
            self.delete_node(req.get("name"))
            return {"resourceVersion": str(st.rv)}
        if cmd == "get_node":
            return {"node": json.loads(self.get_node(req.get("name")).full)}
        if cmd == "hold_lists":
            # hold=true: node LISTs are answered only once hold=false comes (a slow, huge list)
            if req.get("hold", True):
                self.lists_open.clear()
            else:
                self.lists_open.set()
            return {}
        if cmd == "list_nodes":
            return {"resourceVersion": str(st.rv), "nodes": [json.loads(st.nodes[n].full) for n in st.names]}
        if cmd in CONTROL_OBJECT_CMDS:
            return self.control_objects(cmd, req)
        if cmd == "rv":
            return {"resourceVersion": str(st.rv)}
        if cmd == "cut":
            return {"cut": self.cut_all()}
        if cmd == "end_watches":
            return {"ended": self.end_watches()}
        if cmd in ("stop", "restart"):
            seconds = float(req.get("seconds", 0 if cmd == "restart" else -1))
            graceful = bool(req.get("graceful", False))
            await self.stop_listening()
            n = self.end_watches() if graceful else 0
            if graceful:
                await asyncio.sleep(0.05)
            n += self.cut_all()
            if cmd == "restart":
                st.restart()
            if self.resume_task is not None:
                self.resume_task.cancel()
            self.resume_task = None
            if seconds == 0:
                await self.start_listening()
            elif seconds > 0:
                self.resume_task = asyncio.ensure_future(self.resume_after(seconds))
            return {"closed": n, "resourceVersion": str(st.rv)}
        if cmd == "start":
            if self.resume_task is not None:
                self.resume_task.cancel()
                self.resume_task = None
            if not self.listening:
                await self.start_listening()
            return {}
        if cmd == "compact":
            return {"compacted": str(st.compact(bool(req.get("watch_cache", True))))}
        if cmd == "rotate_token":
            user = self.find_user(req)
            tok = req.get("token") or secrets.token_hex(16)
            if not isinstance(tok, str) or not re.fullmatch(r"[\x21-\x7e]+", tok):
                raise ValueError("token must be printable ASCII without spaces")
            user.token = tok
            self.write_user_files(user)
            return {"token": tok}
        if cmd == "set_verbs":
            user = self.find_user(req)
            user.rules = parse_rules(str(req.get("verbs", "")))
            user.masters = req.get("verbs") == "admin"
            return {}
        if cmd == "inject_garbage":
            data = req.get("data", '{"type":"MODIFIED","object":{"kind":"Node","apiVersion":"v1","metadata":{"name":\n')
            data = data.encode()
            for wt in self.watches:
                wt.conn.writer.write(b"%x\r\n" % len(data) + data + b"\r\n")
            return {"streams": len(self.watches)}
        if cmd == "fail_next":
            count = int(req.get("count", 1))
            code = int(req.get("code", 429))
            if count <= 0 or not 400 <= code <= 599:
                raise ValueError("fail_next needs count > 0 and a 4xx/5xx code")
            self.failures.append({"count": count, "code": code, "verb": str(req.get("verb", "")),
                                  "path": str(req.get("path", "/")), "retry_after": int(req.get("retry_after", 1))})
            return {}
        if cmd == "stats":
            out = [{"verb": k[0], "method": k[1], "path": k[2], "code": k[3], "count": v}
                   for k, v in sorted(self.stats.items(), key=lambda kv: tuple(map(str, kv[0])))]
            total = sum(self.stats.values())
            if req.get("reset"):
                self.stats = {}
            return {"requests": out, "total": total, "watches": len(self.watches),
                    "connections": len(self.conns), "listening": self.listening}
        if cmd == "users":
            return {"users": {u.name: {"token": u.token, "verbs": ["%s/%s" % r for r in u.rules]}
                              for u in self.users.values()}}
        raise ValueError("unknown cmd %r" % cmd)

    async def resume_after(self, seconds):
        await asyncio.sleep(seconds)
        self.resume_task = None
        if not self.listening:
            await self.start_listening()

    # ----- main

    async def run(self):
        self.load_users()
        os.makedirs(self.state_dir, exist_ok=True)
        self.make_certs()
        self.preload()
        await self.start_listening()
        for u in self.users.values():
            self.write_user_files(u)
        sock = os.path.join(self.state_dir, "control.sock")
        if os.path.exists(sock):
            os.unlink(sock)
        ctl = await asyncio.start_unix_server(self.handle_control, sock)
        self.shutdown = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.shutdown.set)
        loop.add_signal_handler(signal.SIGINT, self.shutdown.set)
        print("READY " + " ".join(host_port(h, p) for h, p in self.bound), flush=True)
        await self.shutdown.wait()
        # Like kube-apiserver on SIGTERM (facts W11, 72-74): stop accepting at once, then end
        # the open watches cleanly after --shutdown-delay seconds.
        await self.stop_listening()
        ctl.close()
        if self.args.shutdown_delay > 0 and self.watches:
            await asyncio.sleep(self.args.shutdown_delay)
        self.end_watches()
        await asyncio.sleep(0.1)
        tasks = [c.task for c in self.conns if c.task is not None]
        for conn in list(self.conns):
            conn.writer.close()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=2)
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1)
        try:
            os.unlink(sock)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser(description="Test kube-apiserver (v1.24 wire behaviour) for flannel tests")
    ap.add_argument("--state-dir", required=True, help="directory for ca.crt, tokens, kubeconfigs, control.sock")
    ap.add_argument("--listen", action="append", help="IP:PORT or [IPv6]:PORT (repeatable; port 0 = any)")
    ap.add_argument("--user", action="append", help="NAME:TOKEN:VERBS; TOKEN empty = random; VERBS = admin|flannel|none|"
                    "comma list of VERB/RESOURCE (default users: admin and flannel)")
    ap.add_argument("--users-file", help="JSON list of {name, token, verbs}")
    ap.add_argument("--san", action="append", help="extra subjectAltName (IP or DNS) for the server certificate")
    ap.add_argument("--preload", type=int, default=0, help="create N synthetic nodes node-00000...")
    ap.add_argument("--cluster-cidr", default="198.18.0.0/15", help="pod network the preloaded podCIDRs come from")
    ap.add_argument("--node-cidr-mask", type=int, default=24, help="prefix length of each preloaded podCIDR")
    ap.add_argument("--node-ip-cidr", help="InternalIPs of preloaded nodes (default 198.51.100.0/24 or 100.64.0.0/10)")
    ap.add_argument("--preload-annotations", action="store_true", help="give preloaded nodes flannel vxlan annotations")
    ap.add_argument("--bookmark-interval", type=float, default=60.0, help="seconds between periodic watch bookmarks")
    ap.add_argument("--min-request-timeout", type=float, default=1800.0, help="watch length when timeoutSeconds is absent")
    ap.add_argument("--namespace-finalize-delay", type=float, default=0.5,
                    help="seconds from a namespace DELETE to its removal (the namespace controller's work; real: ~5)")
    ap.add_argument("--max-events", type=int, default=10000, help="watch cache size; older events are compacted")
    ap.add_argument("--shutdown-delay", type=float, default=0.0, help="seconds open watches are held after SIGTERM (real: 60)")
    ap.add_argument("--event-log", help="append \"<CLOCK_REALTIME ns> <type> <name> <watch>\" to this file for every "
                    "event written to a watch stream (for benchmarks)")
    args = ap.parse_args()
    if args.max_events < 2 or args.preload < 0 or args.bookmark_interval <= 0 or args.min_request_timeout <= 0:
        ap.error("--max-events >= 2, --preload >= 0, --bookmark-interval > 0 and --min-request-timeout > 0 are required")
    try:
        srv = Server(args)
        asyncio.run(srv.run())
    except (ValueError, OSError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", b"") or b""
        print("kube-apiserver.py: %s %s" % (e, detail.decode(errors="replace").strip()), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
