/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flannel meta plugin: ADD builds the delegate configuration from
 * subnet.env, saves it and runs the delegate; DEL and CHECK replay the saved
 * configuration; GC and STATUS (CNI 1.1.0) clean stale state and report
 * readiness (subnet.env present).
 */
#pragma once

#include "skel.h"

/* The whole plugin invocation; returns the process exit code. */
int cni_main(const struct cni_io *io);
