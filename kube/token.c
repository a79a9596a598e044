/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token cache. Re-opening the file by path each time follows kubelet's
 * atomic "..data" symlink swap; inotify on the file itself would miss it.
 */
#include <string.h>

#include "kube/token.h"
#include "lib/core/fileio.h"
#include "lib/core/log.h"
#include "lib/core/macro.h"

static void wipe(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

int kube_token_init(struct kube_token *t, const char *static_value, const char *path)
{
	*t = (struct kube_token){.stale = true};
	if (static_value && !(t->value = strdup(static_value)))
		return -ENOMEM;
	if (path && !(t->path = strdup(path))) {
		wipe(&t->value);
		return -ENOMEM;
	}
	return 0;
}

static int reload(struct kube_token *t)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	r = read_file_bounded(t->path, KUBE_TOKEN_MAX_SIZE, &data, &len);
	if (r < 0)
		return log_warn_errno(r, "Failed to read token file %s, keeping the previous token",
				      t->path);
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' ' ||
			   data[len - 1] == '\t'))
		data[--len] = '\0';
	if (len == 0 || memchr(data, '\n', len) || strlen(data) != len) {
		explicit_bzero(data, len);
		log_warn("Token file %s is empty or malformed, keeping the previous token",
			 t->path);
		return -EINVAL;
	}
	if (t->value && strcmp(t->value, data) != 0)
		log_info("Token file %s changed, using the new token", t->path);
	wipe(&t->value);
	t->value = TAKE_PTR(data);
	return 0;
}

const char *kube_token_get(struct kube_token *t, uint64_t now_usec)
{
	if (t->path && (t->stale || now_usec - t->read_usec >= KUBE_TOKEN_REFRESH_USEC)) {
		(void)reload(t);
		/* A failed read is retried at the next period, not on every request. */
		t->read_usec = now_usec;
		t->stale = false;
	}
	return t->value;
}

void kube_token_invalidate(struct kube_token *t)
{
	t->stale = true;
}

void kube_token_done(struct kube_token *t)
{
	wipe(&t->value);
	free(t->path);
	*t = (struct kube_token){};
}
