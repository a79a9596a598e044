/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The single-threaded event loop of the daemon: one epoll fd; sources are
 * file descriptors, timers (one timerfd each, CLOCK_MONOTONIC) and signals
 * (one signalfd; the signals are blocked while registered). No threads.
 *
 * Callbacks return 0 or a negative errno; a negative return is logged once by
 * the loop with the source's description and the loop keeps running.
 * A callback may free its own source, or any other source.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>

struct loop;
struct loop_source;

typedef int (*loop_io_fn)(struct loop_source *s, int fd, uint32_t revents, void *userdata);
typedef int (*loop_timer_fn)(struct loop_source *s, void *userdata);
typedef int (*loop_signal_fn)(struct loop_source *s, const struct signalfd_siginfo *si,
			      void *userdata);

int loop_new(struct loop **ret);
void loop_free(struct loop *l);

/* Watch fd (not owned) for EPOLLIN/EPOLLOUT/... */
int loop_add_io(struct loop *l, int fd, uint32_t events, loop_io_fn cb, void *userdata,
		const char *description, struct loop_source **ret);
int loop_source_set_io_events(struct loop_source *s, uint32_t events);

/* A timer firing once, usec_from_now microseconds from now (0: on the next
 * iteration). Re-arm with loop_timer_arm(); disarm with loop_timer_disarm(). */
int loop_add_timer(struct loop *l, uint64_t usec_from_now, loop_timer_fn cb, void *userdata,
		   const char *description, struct loop_source **ret);
int loop_timer_arm(struct loop_source *s, uint64_t usec_from_now);
int loop_timer_disarm(struct loop_source *s);
bool loop_timer_armed(const struct loop_source *s);

int loop_add_signal(struct loop *l, int signo, loop_signal_fn cb, void *userdata,
		    struct loop_source **ret);

void loop_source_free(struct loop_source *s);
struct loop *loop_source_loop(const struct loop_source *s);

/* Run until loop_exit(); returns the code given to loop_exit(). */
int loop_run(struct loop *l);
/* One iteration: wait at most timeout_usec (UINT64_MAX: forever), dispatch. */
int loop_run_once(struct loop *l, uint64_t timeout_usec);
/*
 * Is a source ready (data to read, a timer expired, a signal) that the loop
 * has not dispatched yet? For background work that must not delay events.
 */
bool loop_has_pending(const struct loop *l);
void loop_exit(struct loop *l, int code);
bool loop_exiting(const struct loop *l);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in microseconds. */
uint64_t now_monotonic_usec(void);
uint64_t now_realtime_usec(void);
