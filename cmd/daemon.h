/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flanneld daemon: start-up order, subnet manager, backend, subnet.env,
 * health endpoints, shutdown. Called by main() once the command line is
 * parsed and logging is set up.
 */
#pragma once

#include "flags.h"

/* Runs until shutdown. Returns 0 after a clean exit, -errno on a fatal error (already logged). */
int daemon_main(const struct flannel_flags *f);
