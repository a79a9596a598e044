/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main() of the flannel CNI plugin, a static binary installed as
 * /opt/cni/bin/flannel. Run by a container runtime (CNI_COMMAND set) it is
 * the plugin; `flannel install ...` is the installer the DaemonSet's init
 * container runs; `--help` prints the usage.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni/exec.h"
#include "cni/flannel.h"
#include "cni/install.h"
#include "lib/core/fileio.h"

static const char *io_getenv(void *userdata, const char *name)
{
	return getenv(name);
}

static int io_read_stdin(void *userdata, size_t max, char **ret, size_t *ret_len)
{
	return read_fd_bounded(STDIN_FILENO, max, ret, ret_len);
}

static int io_exec(void *userdata, const struct cni_exec_req *req, struct cni_exec_result *ret)
{
	return cni_exec(req, ret);
}

int main(int argc, char **argv)
{
	const struct cni_io io = {
		.getenv = io_getenv,
		.read_stdin = io_read_stdin,
		.exec = io_exec,
		.out = stdout,
		.err = stderr,
	};
	const char *command = getenv("CNI_COMMAND");

	if ((command && command[0]) || argc < 2)
		return cni_main(&io);
	if (strcmp(argv[1], "install") == 0)
		return cni_install_main(argc - 1, argv + 1, stdout);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(cni_install_usage, stdout);
		return 0;
	}
	fputs(cni_install_usage, stderr);
	return 2;
}
