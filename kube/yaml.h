/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A strict, bounded parser for the YAML subset kubectl writes in kubeconfig
 * files: block mappings and sequences (including "key:\n- item" at the same
 * indentation), plain, single- and double-quoted scalars, full-line and
 * trailing comments, "{}" and "[]", and a leading "---". Anything else
 * (anchors, tags, block scalars, flow collections with content, multi-line
 * scalars, tabs in indentation) is rejected with "line N: ...".
 * The result is a cJSON tree whose scalars are all strings (or null), so
 * JSON kubeconfigs and YAML ones are read by the same code.
 * Pure: no I/O.
 */
#pragma once

#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/core/errmsg.h"

#define KUBE_YAML_MAX_SIZE  (1024 * 1024)
#define KUBE_YAML_MAX_LINES 100000
#define KUBE_YAML_MAX_DEPTH 32

int kube_yaml_parse(const char *text, size_t len, cJSON **ret, struct errmsg *err);
