/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For the test tools that write kernel state (the netpol tools): they refuse
 * to run outside a network namespace made by `ip netns add`, so that a
 * mistaken run never touches the machine's own namespace.
 */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

/* Whether we run in a network namespace made by `ip netns add` (as `ip netns identify`). */
static inline bool in_named_netns(void)
{
	struct stat self, st;
	struct dirent *de;
	bool found = false;
	DIR *d;

	if (stat("/proc/self/ns/net", &self) < 0 || !(d = opendir("/run/netns")))
		return false;
	while (!found && (de = readdir(d))) {
		char path[512];
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		found = de->d_name[0] != '.' && stat(path, &st) == 0 && st.st_dev == self.st_dev &&
			st.st_ino == self.st_ino;
	}
	closedir(d);
	return found;
}
