/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small macros used everywhere: cleanup attributes (the one ownership idiom of
 * this project), array sizes, ownership transfer and compiler attributes.
 * A function that takes ownership says so in its header; everything else
 * borrows.
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)	 __attribute__((cleanup(f)))
#define _cleanup_free_	 _cleanup_(freep)
#define _cleanup_close_	 _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _printf_(a, b)	 __attribute__((format(printf, a, b)))
#define _unused_	 __attribute__((unused))
#define _noreturn_	 __attribute__((noreturn))
#define _warn_unused_	 __attribute__((warn_unused_result))
#define _likely_(x)	 __builtin_expect(!!(x), 1)
#define _unlikely_(x)	 __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MAX(a, b)     ((a) > (b) ? (a) : (b))

#define USEC_PER_SEC  1000000ULL
#define USEC_PER_MSEC 1000ULL
#define NSEC_PER_USEC 1000ULL

/* Hand a pointer over to someone else: returns it and leaves NULL behind. */
#define TAKE_PTR(p)                     \
	({                              \
		__typeof__(p) _p = (p); \
		(p) = NULL;             \
		_p;                     \
	})

/* Same for file descriptors: returns the fd and leaves -1 behind. */
#define TAKE_FD(fd)             \
	({                      \
		int _fd = (fd); \
		(fd) = -1;      \
		_fd;            \
	})

/* Defines `static inline void funcp(type *p)` calling func(*p) when non-NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
	static inline void func##p(type *p)     \
	{                                       \
		if (*p)                         \
			func(*p);               \
	}

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/* Turn a libc-style failure (-1 + errno) into our -errno convention. */
static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}
