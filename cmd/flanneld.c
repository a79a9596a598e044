/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flanneld's main(): parse the command line and FLANNELD_* environment,
 * answer --help and --version, set the log verbosity, log the effective
 * flags, check the lease renewal margin as upstream does (even in kube
 * mode), and hand over to the daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "flags.h"
#include "lib/core/log.h"
#include "status.h"

extern char **environ;

/*
 * GnuTLS initialises itself when it is loaded (a library constructor), and
 * it is loaded because Debian's libcurl links librtmp and libldap, which
 * link it; we never use it (libcurl does TLS with OpenSSL). GnuTLS skips
 * that initialisation when the program defines this function returning
 * nonzero (its GNUTLS_SKIP_GLOBAL_INIT; a library that does use GnuTLS calls
 * gnutls_global_init() itself). Exported from the executable by
 * cmd/CMakeLists.txt so that it overrides GnuTLS's weak default.
 */
int _gnutls_global_init_skip(void);
int _gnutls_global_init_skip(void)
{
	return 1;
}

int main(int argc, char **argv)
{
	struct flannel_flags f;
	struct errmsg err = {0};
	int r;

	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return status_client_main(argc - 1, argv + 1);

	r = flags_parse(argc, argv, environ, &f, &err);
	if (r < 0) {
		fprintf(stderr, "%s\n", err.text);
		flags_usage(stderr);
		return 2;
	}
	if (r == FLAGS_HELP) {
		flags_usage(stderr);
		return EXIT_SUCCESS;
	}
	if (r == FLAGS_VERSION) {
		fprintf(stderr, "%s\n", FLANNEL_VERSION);
		return EXIT_SUCCESS;
	}

	/* klog's per-file verbosity and backtraces are not built: refuse, never ignore. */
	r = flags_check_supported(&f, (const char *const[]){"vmodule", "log_backtrace_at", NULL},
				  &err);
	if (r < 0) {
		fprintf(stderr, "%s\n", err.text);
		return EXIT_FAILURE;
	}

	log_set_verbosity(f.v);
	flags_log(&f);

	if (f.subnet_lease_renew_margin >= 24 * 60 || f.subnet_lease_renew_margin <= 0) {
		log_error("Invalid subnet-lease-renew-margin option, out of acceptable range");
		return EXIT_FAILURE;
	}

	return daemon_main(&f) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
