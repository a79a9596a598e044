/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging in klog's line format (the format Kubernetes components and
 * upstream flannel write, so existing log tooling keeps working):
 *
 *   I1128 22:05:01.123456    1234 file.c:42] message
 *
 * The whole line is formatted into one buffer and handed to the stream with
 * a single fwrite + fflush, so lines from concurrent processes sharing
 * stderr never interleave mid-line. errno is preserved across every call, and
 * for the *_errno variants it is set to the error while formatting so that
 * "%m" in a message names the same error that is appended.
 */
#include "lib/core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int log_verbosity;

static FILE *log_stream;
static log_hook_fn log_hook;
static void *log_hook_userdata;

void log_set_verbosity(int v)
{
	log_verbosity = v;
}

void log_set_stream(FILE *f)
{
	log_stream = f;
}

void log_set_hook(log_hook_fn fn, void *userdata)
{
	log_hook = fn;
	log_hook_userdata = userdata;
}

/* Fits almost every line; longer ones are allocated. */
#define LOG_LINE_STACK 1024

static _printf_(4, 0) void log_write(char severity, const char *file, int line, const char *fmt,
				     va_list ap, const char *suffix)
{
	char stack[LOG_LINE_STACK];
	_cleanup_free_ char *heap = NULL;
	char *out = stack;
	size_t size = sizeof(stack), slen = suffix ? strlen(suffix) : 0, len, need;
	struct timeval tv;
	struct tm tm;
	int hdr, msg;
	va_list aq;

	gettimeofday(&tv, NULL);
	if (!localtime_r(&tv.tv_sec, &tm))
		memset(&tm, 0, sizeof(tm));

	hdr = snprintf(stack, sizeof(stack), "%c%02d%02d %02d:%02d:%02d.%06ld %7d %s:%d] ",
		       severity, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		       (long)tv.tv_usec, (int)getpid(), file ? file : "?", line);
	if (hdr < 0 || (size_t)hdr + slen + 2 > sizeof(stack))
		return;

	va_copy(aq, ap);
	msg = vsnprintf(stack + hdr, sizeof(stack) - hdr, fmt, aq);
	va_end(aq);
	if (msg < 0)
		return;

	/* header + message + suffix + '\n' + NUL */
	need = (size_t)hdr + (size_t)msg + slen + 2;
	if (need > sizeof(stack)) {
		heap = malloc(need);
		if (heap) {
			memcpy(heap, stack, hdr);
			va_copy(aq, ap);
			vsnprintf(heap + hdr, need - hdr, fmt, aq);
			va_end(aq);
			out = heap;
			size = need;
		}
		/* Out of memory: the stack copy holds a truncated message. */
	}

	/* Room is always kept for the suffix and the newline, truncating the message. */
	len = strlen(out);
	if (len + slen + 2 > size)
		len = size - slen - 2;
	/* A caller's trailing newline is dropped: every message is exactly one line. */
	while (len > (size_t)hdr && out[len - 1] == '\n')
		len--;
	if (slen > 0)
		memcpy(out + len, suffix, slen);
	len += slen;
	out[len++] = '\n';
	out[len] = '\0';

	FILE *f = log_stream ? log_stream : stderr;
	fwrite(out, 1, len, f);
	fflush(f);

	if (log_hook && severity != 'I') {
		out[len - 1] = '\0';
		log_hook(severity, out + hdr, log_hook_userdata);
	}
}

void log_internal(char severity, const char *file, int line, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_write(severity, file, line, fmt, ap, NULL);
	va_end(ap);
	errno = saved;
}

int log_internal_errno(char severity, const char *file, int line, int err, const char *fmt, ...)
{
	int saved = errno;
	char suffix[128], ebuf[96];
	va_list ap;

	if (err < 0)
		err = -err;
	if (err == 0)
		err = EIO;

	snprintf(suffix, sizeof(suffix), ": %s", strerror_r(err, ebuf, sizeof(ebuf)));
	errno = err;
	va_start(ap, fmt);
	log_write(severity, file, line, fmt, ap, suffix);
	va_end(ap);
	errno = saved;
	return -err;
}
