/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event loop: one epoll fd, modelled on redis' ae.c and sd-event but
 * much smaller. Each fd source is registered with its own pointer as epoll
 * data; each timer is a timerfd (CLOCK_MONOTONIC, so wall-clock jumps do not
 * fire or delay it); all signals share one signalfd registered with a NULL
 * pointer, and are blocked with sigprocmask while a source exists for them.
 *
 * Callbacks may free any source, including their own, while a batch of epoll
 * events is being dispatched: a freed source is detached at once (removed
 * from epoll, timerfd closed, signal unblocked) but its memory is kept on a
 * "dead" list until the batch is over, so later events of the same batch
 * that point at it are recognised and skipped. loop_free() frees every
 * source still registered.
 */
#include "lib/core/loop.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/core/log.h"
#include "lib/core/macro.h"

enum source_type {
	SOURCE_IO,
	SOURCE_TIMER,
	SOURCE_SIGNAL,
};

struct loop_source {
	struct loop *loop;
	enum source_type type;
	int fd;	   /* watched fd (IO, not owned) or the timerfd (TIMER, owned) */
	int signo; /* SIGNAL */
	uint32_t events;
	bool armed; /* TIMER */
	bool dead;  /* freed during dispatch; memory kept until the batch ends */
	union {
		loop_io_fn io;
		loop_timer_fn timer;
		loop_signal_fn signal;
	} cb;
	void *userdata;
	char *description;
	struct loop_source *prev, *next;
};

struct loop {
	int epfd;
	int sigfd;
	sigset_t sigmask; /* signals with a source */
	struct loop_source *signals[_NSIG];
	struct loop_source *sources; /* live sources */
	struct loop_source *dead;    /* freed during the current dispatch */
	bool dispatching;
	bool exiting;
	int exit_code;
};

#define LOOP_MAX_EVENTS 64

uint64_t now_monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / NSEC_PER_USEC;
}

uint64_t now_realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / NSEC_PER_USEC;
}

int loop_new(struct loop **ret)
{
	struct loop *l;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int r = negative_errno();
		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

static void list_unlink(struct loop_source **head, struct loop_source *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

static void list_push(struct loop_source **head, struct loop_source *s)
{
	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
}

static int source_new(struct loop *l, enum source_type type, void *userdata,
		      const char *description, struct loop_source **ret)
{
	struct loop_source *s;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->description = strdup(description ? description : "event source");
	if (!s->description) {
		free(s);
		return -ENOMEM;
	}
	s->loop = l;
	s->type = type;
	s->fd = -1;
	s->userdata = userdata;
	*ret = s;
	return 0;
}

static void source_destroy(struct loop_source *s)
{
	free(s->description);
	free(s);
}

/* Point the shared signalfd at the current mask (creating it on first use). */
static int signalfd_update(struct loop *l)
{
	int fd;

	fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (l->sigfd < 0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			int r = negative_errno();
			close(fd);
			return r;
		}
		l->sigfd = fd;
	}
	return 0;
}

/* Undo the registration: after this no event is dispatched to s. */
static void source_detach(struct loop_source *s)
{
	struct loop *l = s->loop;

	switch (s->type) {
	case SOURCE_IO:
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
		break;
	case SOURCE_TIMER:
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
		break;
	case SOURCE_SIGNAL: {
		sigset_t one;
		l->signals[s->signo] = NULL;
		sigdelset(&l->sigmask, s->signo);
		(void)signalfd_update(l);
		sigemptyset(&one);
		sigaddset(&one, s->signo);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		break;
	}
	}
	s->fd = -1;
}

void loop_source_free(struct loop_source *s)
{
	struct loop *l;

	if (!s || s->dead)
		return;
	l = s->loop;
	source_detach(s);
	list_unlink(&l->sources, s);
	if (l->dispatching) {
		s->dead = true;
		list_push(&l->dead, s);
	} else {
		source_destroy(s);
	}
}

struct loop *loop_source_loop(const struct loop_source *s)
{
	return s->loop;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	while (l->sources)
		loop_source_free(l->sources);
	while (l->dead) {
		struct loop_source *s = l->dead;
		list_unlink(&l->dead, s);
		source_destroy(s);
	}
	if (l->sigfd >= 0)
		close(l->sigfd);
	close(l->epfd);
	free(l);
}

int loop_add_io(struct loop *l, int fd, uint32_t events, loop_io_fn cb, void *userdata,
		const char *description, struct loop_source **ret)
{
	struct loop_source *s;
	int r;

	if (fd < 0 || !cb)
		return -EINVAL;
	r = source_new(l, SOURCE_IO, userdata, description, &s);
	if (r < 0)
		return r;
	s->fd = fd;
	s->events = events;
	s->cb.io = cb;

	struct epoll_event ev = {.events = events, .data.ptr = s};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		r = negative_errno();
		source_destroy(s);
		return r;
	}
	list_push(&l->sources, s);
	if (ret)
		*ret = s;
	return 0;
}

int loop_source_set_io_events(struct loop_source *s, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = s};

	if (s->type != SOURCE_IO || s->dead)
		return -EINVAL;
	if (epoll_ctl(s->loop->epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0)
		return negative_errno();
	s->events = events;
	return 0;
}

int loop_timer_arm(struct loop_source *s, uint64_t usec_from_now)
{
	struct itimerspec its = {};

	if (s->type != SOURCE_TIMER || s->dead)
		return -EINVAL;
	/* A zero it_value would disarm: "now" is the smallest positive delay. */
	if (usec_from_now == 0) {
		its.it_value.tv_nsec = 1;
	} else {
		its.it_value.tv_sec =
			(time_t)MIN(usec_from_now / USEC_PER_SEC, (uint64_t)INT32_MAX);
		its.it_value.tv_nsec = (long)(usec_from_now % USEC_PER_SEC * NSEC_PER_USEC);
	}
	if (timerfd_settime(s->fd, 0, &its, NULL) < 0)
		return negative_errno();
	s->armed = true;
	return 0;
}

int loop_timer_disarm(struct loop_source *s)
{
	struct itimerspec its = {};

	if (s->type != SOURCE_TIMER || s->dead)
		return -EINVAL;
	/* Setting the timer also clears expirations not yet read. */
	if (timerfd_settime(s->fd, 0, &its, NULL) < 0)
		return negative_errno();
	s->armed = false;
	return 0;
}

bool loop_timer_armed(const struct loop_source *s)
{
	return s->type == SOURCE_TIMER && !s->dead && s->armed;
}

int loop_add_timer(struct loop *l, uint64_t usec_from_now, loop_timer_fn cb, void *userdata,
		   const char *description, struct loop_source **ret)
{
	struct loop_source *s;
	int r;

	if (!cb)
		return -EINVAL;
	r = source_new(l, SOURCE_TIMER, userdata, description, &s);
	if (r < 0)
		return r;
	s->cb.timer = cb;
	s->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->fd < 0) {
		r = negative_errno();
		source_destroy(s);
		return r;
	}

	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
		r = negative_errno();
		close(s->fd);
		source_destroy(s);
		return r;
	}
	list_push(&l->sources, s);

	r = loop_timer_arm(s, usec_from_now);
	if (r < 0) {
		loop_source_free(s);
		return r;
	}
	if (ret)
		*ret = s;
	return 0;
}

int loop_add_signal(struct loop *l, int signo, loop_signal_fn cb, void *userdata,
		    struct loop_source **ret)
{
	char desc[64];
	struct loop_source *s;
	sigset_t one;
	int r;

	if (signo <= 0 || signo >= _NSIG || !cb)
		return -EINVAL;
	if (l->signals[signo])
		return -EBUSY;

	const char *abbrev = sigabbrev_np(signo);
	if (abbrev)
		snprintf(desc, sizeof(desc), "signal SIG%s", abbrev);
	else
		snprintf(desc, sizeof(desc), "signal %d", signo);
	r = source_new(l, SOURCE_SIGNAL, userdata, desc, &s);
	if (r < 0)
		return r;
	s->signo = signo;
	s->cb.signal = cb;

	/* Block first so that no instance is delivered the old way in between. */
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (sigprocmask(SIG_BLOCK, &one, NULL) < 0) {
		r = negative_errno();
		source_destroy(s);
		return r;
	}
	sigaddset(&l->sigmask, signo);
	r = signalfd_update(l);
	if (r < 0) {
		sigdelset(&l->sigmask, signo);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		source_destroy(s);
		return r;
	}
	l->signals[signo] = s;
	list_push(&l->sources, s);
	if (ret)
		*ret = s;
	return 0;
}

static void report(struct loop_source *s, int r)
{
	if (r < 0)
		log_error_errno(r, "Event source '%s' failed", s->description);
}

/* Read every queued signal and dispatch it; returns the number of callbacks run. */
static int dispatch_signals(struct loop *l)
{
	struct signalfd_siginfo si[8];
	int n = 0;

	for (;;) {
		ssize_t k = read(l->sigfd, si, sizeof(si));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_error_errno(errno, "Failed to read signalfd");
			return n;
		}
		for (size_t i = 0; i < (size_t)k / sizeof(si[0]); i++) {
			uint32_t signo = si[i].ssi_signo;
			struct loop_source *s = signo < _NSIG ? l->signals[signo] : NULL;
			if (!s)
				continue;
			report(s, s->cb.signal(s, &si[i], s->userdata));
			n++;
		}
		if ((size_t)k < sizeof(si))
			return n;
	}
}

static int dispatch_one(struct loop_source *s, uint32_t revents)
{
	uint64_t expirations;

	switch (s->type) {
	case SOURCE_IO:
		report(s, s->cb.io(s, s->fd, revents, s->userdata));
		return 1;
	case SOURCE_TIMER:
		/* EAGAIN: re-armed or disarmed since epoll_wait returned. */
		if (read(s->fd, &expirations, sizeof(expirations)) != (ssize_t)sizeof(expirations))
			return 0;
		s->armed = false;
		report(s, s->cb.timer(s, s->userdata));
		return 1;
	case SOURCE_SIGNAL:
		break;
	}
	return 0;
}

int loop_run_once(struct loop *l, uint64_t timeout_usec)
{
	struct epoll_event events[LOOP_MAX_EVENTS];
	int timeout_ms, n, dispatched = 0;

	if (timeout_usec == UINT64_MAX)
		timeout_ms = -1;
	else /* round up: waking early for a timer would spin */
		timeout_ms = (int)MIN((timeout_usec + USEC_PER_MSEC - 1) / USEC_PER_MSEC,
				      (uint64_t)INT_MAX);

	n = epoll_wait(l->epfd, events, LOOP_MAX_EVENTS, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : negative_errno();

	l->dispatching = true;
	for (int i = 0; i < n; i++) {
		struct loop_source *s = events[i].data.ptr;

		if (!s)
			dispatched += dispatch_signals(l);
		else if (!s->dead)
			dispatched += dispatch_one(s, events[i].events);
	}
	l->dispatching = false;

	while (l->dead) {
		struct loop_source *s = l->dead;
		list_unlink(&l->dead, s);
		source_destroy(s);
	}
	return dispatched;
}

int loop_run(struct loop *l)
{
	while (!l->exiting) {
		int r = loop_run_once(l, UINT64_MAX);
		if (r < 0)
			return log_error_errno(r, "Event loop failed");
	}
	return l->exit_code;
}

bool loop_has_pending(const struct loop *l)
{
	struct epoll_event ev;

	/* Level-triggered: a peek, the next epoll_wait reports it again. */
	return epoll_wait(l->epfd, &ev, 1, 0) > 0;
}

void loop_exit(struct loop *l, int code)
{
	l->exiting = true;
	l->exit_code = code;
}

bool loop_exiting(const struct loop *l)
{
	return l->exiting;
}
