/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The extension backend (upstream backend/extension): no datapath of its
 * own; operator-supplied commands do the work (ext_config.h, ext_cmd.h).
 *
 *   PreStartupCommand    at start, before the lease: its standard output,
 *                        trimmed, is our backend data (published as a JSON
 *                        string); a failure stops flanneld, as upstream.
 *   PostStartupCommand   once the lease is known (again if it changes), with
 *                        NETWORK, SUBNET, IPV6SUBNET, PUBLIC_IP, PUBLIC_IPV6;
 *                        a failure stops flanneld, as upstream.
 *   SubnetAddCommand     for each extension peer, with SUBNET, PUBLIC_IP,
 *                        IPV6SUBNET, PUBLIC_IPV6 of the peer and its backend
 *                        data (plus a newline) on standard input.
 *   SubnetRemoveCommand  the same, for a peer that went away, and for the old
 *                        lease of a peer whose lease changed, before the add
 *                        of the new one.
 *
 * The start-up commands run synchronously (there is nothing to serve
 * before them); the per-peer commands never block the event loop: a
 * reconciler compares the peers (desired) with those whose add succeeded
 * (applied) and runs the first difference in a forked task, one command at
 * a time, the next when it is done. A failed command is logged once with
 * its exit status and the end of its output and retried with exponential
 * backoff (1 s to 5 min) until it succeeds or is no longer needed; the
 * other peers go on meanwhile. A command gets EXT_RUN_TIMEOUT_MS.
 *
 * A restart runs the add of every peer again, as upstream: nothing tells
 * what the commands did before (their effects live outside flanneld), so
 * the adds re-assert it, and SubnetAddCommand must be idempotent (it is
 * retried anyway). A peer deleted while flanneld was down is not removed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ext_cmd.h"
#include "ext_config.h"
#include "lib/core/backoff.h"
#include "lib/core/log.h"
#include "lib/core/macro.h"
#include "lib/core/spawn.h"
#include "lib/core/task.h"
#include "lib/json/json.h"
#include "registry.h"

#define EXT_START_TIMEOUT_MS 20000u
#define EXT_RUN_TIMEOUT_MS   60000u
#define EXT_RETRY_BASE_USEC  (1 * USEC_PER_SEC)
#define EXT_RETRY_MAX_USEC   (300 * USEC_PER_SEC)
#define EXT_OUTPUT_TAIL	     1024 /* of a command's output, for the log */
/* PreStartupCommand's output: JSON-escaped (at most 6 bytes a byte) it stays
 * under LEASE_EXT_DATA_MAX, which peers accept. */
#define EXT_DATA_MAX (16 * 1024)
#define EXT_ENV_VARS 5

extern char **environ;

/* A peer as the commands see it: owned copies. */
struct ext_peer {
	char *name;
	bool has_subnet, has_subnet6;
	struct ip_net subnet, subnet6;
	struct ip_addr public_ip, public_ip6;
	char *data; /* its backend data: the output of its PreStartupCommand */
};

/* A peer the runner has run an add for (applied), or whose command failed. */
struct ext_known {
	char *name;
	bool applied; /* the add of peer succeeded (or there is no add command) */
	struct ext_peer peer;
	bool failing;  /* the last command for it failed: logged, waiting for retry_at */
	char *problem; /* while failing: "SubnetAddCommand: exit status 3: ..." */
	struct backoff backoff;
	uint64_t retry_at;
};

struct ext {
	struct ext_config cfg;
	char *data;		   /* ours, from PreStartupCommand */
	char *data_json;	   /* the same as a JSON string, published */
	bool post_ran;		   /* PostStartupCommand ran for post_subnet */
	struct ip_net post_subnet; /* (IPv4, else IPv6) */
	struct ext_peer *desired;  /* extension peers, sorted by name */
	size_t n_desired;
	struct ext_known *known; /* sorted by name */
	size_t n_known;
	struct task *task; /* the command running, NULL when idle */
	enum ext_command running;
	char *running_name;	      /* the peer it runs for */
	struct ext_peer running_peer; /* the lease it runs with (a copy) */
	struct loop_source *retry_timer;
	struct backend *b;
};

/* What a task child reports. */
struct ext_result {
	char err[512]; /* "exit status 3", ... */
	char tail[EXT_OUTPUT_TAIL + 1];
};

/* What a task child runs (its copy of our memory). */
struct ext_job {
	char **argv;
	const char *in;
	size_t in_len;
	const char *env[EXT_ENV_VARS + 1];
};

static void peer_done(struct ext_peer *p)
{
	free(p->name);
	free(p->data);
	*p = (struct ext_peer){0};
}

static int peer_copy(const struct ext_peer *src, struct ext_peer *dst)
{
	struct ext_peer p = *src;

	p.name = strdup(src->name);
	p.data = strdup(src->data ? src->data : "");
	if (!p.name || !p.data) {
		peer_done(&p);
		return -ENOMEM;
	}
	*dst = p;
	return 0;
}

static bool peer_equal(const struct ext_peer *a, const struct ext_peer *b)
{
	return a->has_subnet == b->has_subnet && a->has_subnet6 == b->has_subnet6 &&
	       (!a->has_subnet || ip_net_equal(&a->subnet, &b->subnet)) &&
	       (!a->has_subnet6 || ip_net_equal(&a->subnet6, &b->subnet6)) &&
	       ip_addr_equal(&a->public_ip, &b->public_ip) &&
	       ip_addr_equal(&a->public_ip6, &b->public_ip6) && strcmp(a->data, b->data) == 0;
}

/* ---- running a command ---- */

/* Variables: the extra ones ("K=V") first, then our environment. */
static const char *lookup_in(const char *const *vars, const char *name, size_t len)
{
	for (; vars && *vars; vars++)
		if (strncmp(*vars, name, len) == 0 && (*vars)[len] == '=')
			return *vars + len + 1;
	return NULL;
}

static const char *lookup_var(const char *name, size_t len, void *userdata)
{
	const char *v = lookup_in(userdata, name, len);

	return v ? v : lookup_in((const char *const *)environ, name, len);
}

/* Keeps the last EXT_OUTPUT_TAIL bytes of what a command printed. */
struct tail {
	char buf[EXT_OUTPUT_TAIL + 1];
	size_t len;
};

static int tail_add(const char *data, size_t len, void *userdata)
{
	struct tail *t = userdata;

	if (len >= EXT_OUTPUT_TAIL) {
		memcpy(t->buf, data + len - EXT_OUTPUT_TAIL, EXT_OUTPUT_TAIL);
		t->len = EXT_OUTPUT_TAIL;
	} else {
		size_t keep = MIN(t->len, (size_t)EXT_OUTPUT_TAIL - len);
		memmove(t->buf, t->buf + t->len - keep, keep);
		memcpy(t->buf + keep, data, len);
		t->len = keep + len;
	}
	t->buf[t->len] = '\0';
	return 0;
}

/* s without leading and trailing white space, in place. */
static char *trim(char *s)
{
	size_t n;

	s += strspn(s, " \t\n\v\f\r");
	n = strlen(s);
	while (n > 0 && strchr(" \t\n\v\f\r", s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* "exit status 3", "killed by signal 9", "killed after 60000 ms". */
static void describe_status(int r, int status, const char *err, char *buf, size_t size)
{
	if (r == -EPROTO && status > 128)
		snprintf(buf, size, "killed by signal %d", status - 128);
	else if (r == -EPROTO)
		snprintf(buf, size, "exit status %d", status);
	else
		snprintf(buf, size, "%s", err);
}

static int run_child(void *arg, void *out)
{
	struct ext_job *job = arg;
	struct ext_result *res = out;
	struct tail t = {.len = 0};
	struct errmsg err = {{0}};
	struct spawn_req req = {
		.argv = (const char *const *)job->argv,
		.in = job->in,
		.in_len = job->in_len,
		.out = tail_add,
		.err_out = tail_add,
		.userdata = &t,
		.timeout_ms = EXT_RUN_TIMEOUT_MS,
		.env = job->env,
	};
	int status = -1, r;

	r = spawn_run(&req, &status, &err);
	describe_status(r, status, err.text, res->err, sizeof(res->err));
	snprintf(res->tail, sizeof(res->tail), "%s", trim(t.buf));
	return r;
}

/* The variables of a peer's add or remove. */
static void peer_env(const struct ext_peer *p, char vars[4][IP_NET_STRLEN + 16],
		     const char *env[EXT_ENV_VARS + 1])
{
	char s[IP_NET_STRLEN];

	snprintf(vars[0], sizeof(vars[0]), "SUBNET=%s",
		 p->has_subnet ? ip_net_fmt(&p->subnet, s) : "");
	snprintf(vars[1], sizeof(vars[1]), "PUBLIC_IP=%s",
		 ip_addr_is_set(&p->public_ip) ? ip_addr_fmt(&p->public_ip, s) : "");
	snprintf(vars[2], sizeof(vars[2]), "IPV6SUBNET=%s",
		 p->has_subnet6 ? ip_net_fmt(&p->subnet6, s) : "");
	snprintf(vars[3], sizeof(vars[3]), "PUBLIC_IPV6=%s",
		 ip_addr_is_set(&p->public_ip6) ? ip_addr_fmt(&p->public_ip6, s) : "");
	for (int k = 0; k < 4; k++)
		env[k] = vars[k];
	env[4] = NULL;
}

/* ---- the reconciler ---- */

static void ext_kick(struct ext *e);

static struct ext_known *known_find(struct ext *e, const char *name)
{
	size_t lo = 0, hi = e->n_known;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(e->known[mid].name, name);
		if (c == 0)
			return &e->known[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A new entry for name at position at of the sorted known peers. */
static struct ext_known *known_insert(struct ext *e, size_t at, const char *name)
{
	struct ext_known *v = realloc(e->known, (e->n_known + 1) * sizeof(*v));
	char *n = strdup(name);

	if (v)
		e->known = v;
	if (!v || !n) {
		free(n);
		return NULL;
	}
	memmove(v + at + 1, v + at, (e->n_known - at) * sizeof(*v));
	v[at] = (struct ext_known){.name = n};
	backoff_init(&v[at].backoff, EXT_RETRY_BASE_USEC, EXT_RETRY_MAX_USEC);
	e->n_known++;
	return &v[at];
}

/* The peers whose last command failed: counted as refused (metrics, status). */
static void set_failing(struct ext *e, struct ext_known *k, bool failing)
{
	if (k->failing != failing)
		e->b->status.n_refused += failing ? 1 : (size_t)-1;
	k->failing = failing;
	if (!failing) {
		free(k->problem);
		k->problem = NULL;
	}
}

/* Forget a peer that is neither applied nor wanted. */
static void known_drop(struct ext *e, struct ext_known *k)
{
	size_t at = (size_t)(k - e->known);

	set_failing(e, k, false);
	free(k->name);
	peer_done(&k->peer);
	memmove(k, k + 1, (e->n_known - at - 1) * sizeof(*k));
	e->n_known--;
}

static void on_done(int r, const void *out, void *userdata)
{
	struct ext *e = userdata;
	const struct ext_result *res = out;
	struct backend *b = e->b;
	const char *what = ext_command_name(e->running);
	struct ext_known *k = known_find(e, e->running_name);
	char s[IP_NET_STRLEN];
	const struct ext_peer *p = &e->running_peer;
	const char *sub = p->has_subnet ? ip_net_fmt(&p->subnet, s) : ip_net_fmt(&p->subnet6, s);

	e->task = NULL;
	if (!k) {
		/* Cannot happen: known entries are dropped only while idle. */
		peer_done(&e->running_peer);
	} else if (r >= 0) {
		b->status.entries_added += e->running == EXT_SUBNET_ADD;
		b->status.entries_removed += e->running == EXT_SUBNET_REMOVE;
		if (k->failing)
			log_info("%s for peer %s succeeded again", what, k->name);
		else
			log_info("Ran %s for peer %s (SUBNET=%s)%s%s", what, k->name, sub,
				 res->tail[0] ? ": " : "", res->tail);
		set_failing(e, k, false);
		backoff_reset(&k->backoff);
		peer_done(&k->peer);
		k->applied = e->running == EXT_SUBNET_ADD;
		if (k->applied)
			k->peer = e->running_peer;
		else
			peer_done(&e->running_peer);
		e->running_peer = (struct ext_peer){0};
	} else {
		uint64_t delay = backoff_next(&k->backoff, random_u32());

		const char *why = res->err[0] ? res->err : strerror(-r);

		b->status.op_errors++;
		b->status.last_error = r;
		if (!k->failing)
			log_warn("%s for peer %s (SUBNET=%s) failed: %s%s%s; retrying with backoff",
				 what, k->name, sub, why, res->tail[0] ? ": " : "", res->tail);
		else
			log_v(1, "%s for peer %s failed again: %s; next try in %.1f s", what,
			      k->name, why, (double)delay / (double)USEC_PER_SEC);
		set_failing(e, k, true);
		free(k->problem);
		if (asprintf(&k->problem, "%s: %s%s%s", what, why, res->tail[0] ? ": " : "",
			     res->tail) < 0)
			k->problem = NULL;
		k->retry_at = now_monotonic_usec() + delay;
		peer_done(&e->running_peer);
	}
	free(e->running_name);
	e->running_name = NULL;
	ext_kick(e);
}

/* Start cmd for peer p (k's peer); 0 when started, <0 when it could not be (logged). */
static int start_command(struct ext *e, struct ext_known *k, enum ext_command cmd,
			 const struct ext_peer *p)
{
	char vars[4][IP_NET_STRLEN + 16];
	struct ext_job job = {0};
	struct errmsg err = {{0}};
	_cleanup_free_ char *in = NULL;
	size_t argc;
	int r;

	peer_env(p, vars, job.env);
	r = ext_cmd_split(e->cfg.cmd[cmd], lookup_var, job.env, &job.argv, &argc, &err);
	if (r < 0)
		return log_error_errno(r, "%s for peer %s: %s", ext_command_name(cmd), k->name,
				       err.text);
	if (asprintf(&in, "%s\n", p->data ? p->data : "") < 0) {
		ext_argv_free(job.argv);
		return -ENOMEM;
	}
	job.in = in;
	job.in_len = strlen(in);
	r = peer_copy(p, &e->running_peer);
	if (r >= 0) {
		e->running_name = strdup(k->name);
		if (!e->running_name)
			r = -ENOMEM;
	}
	if (r >= 0) {
		e->running = cmd;
		/* The child works on its copy of job; ours goes right after the fork. */
		r = task_start(e->b->loop, ext_command_name(cmd), run_child, &job,
			       sizeof(struct ext_result), on_done, e, &e->task);
	}
	ext_argv_free(job.argv);
	if (r < 0) {
		peer_done(&e->running_peer);
		free(e->running_name);
		e->running_name = NULL;
		return log_error_errno(r, "Failed to start %s for peer %s", ext_command_name(cmd),
				       k->name);
	}
	return 0;
}

/* A change that needs no command (none configured): applied at once. */
static void apply_without_command(struct ext_known *k, enum ext_command cmd,
				  const struct ext_peer *p)
{
	peer_done(&k->peer);
	k->applied = false;
	if (cmd == EXT_SUBNET_ADD && peer_copy(p, &k->peer) >= 0)
		k->applied = true;
}

/*
 * The next step: walk desired and known together (both sorted by name) to
 * the first difference whose retry time has come, and start its command.
 * Peers neither wanted nor applied are forgotten on the way. While a
 * command runs, nothing else starts.
 */
static void ext_kick(struct ext *e)
{
	uint64_t now = now_monotonic_usec(), next_retry = 0;
	size_t i = 0, j = 0;

	if (e->task)
		return;
	while (i < e->n_desired || j < e->n_known) {
		const struct ext_peer *d = i < e->n_desired ? &e->desired[i] : NULL;
		struct ext_known *k = j < e->n_known ? &e->known[j] : NULL;
		int c = !d ? 1 : !k ? -1 : strcmp(d->name, k->name);
		enum ext_command cmd;
		const struct ext_peer *p;

		if (c > 0 && !k->applied) {
			known_drop(e, k); /* j now names the next one */
			continue;
		}
		if (c < 0) {
			k = known_insert(e, j, d->name);
			if (!k) {
				log_error_errno(-ENOMEM, "Failed to track peer %s", d->name);
				return;
			}
		}
		if (c == 0 && k->applied && peer_equal(&k->peer, d)) {
			/* A failing remove no longer needed (the peer is back as it was). */
			set_failing(e, k, false);
			backoff_reset(&k->backoff);
			i++;
			j++;
			continue;
		}
		/* Gone, or changed: remove the old lease first; otherwise add. */
		cmd = k->applied ? EXT_SUBNET_REMOVE : EXT_SUBNET_ADD;
		p = k->applied ? &k->peer : d;
		if (k->failing && k->retry_at > now) {
			if (next_retry == 0 || k->retry_at < next_retry)
				next_retry = k->retry_at;
			if (c <= 0)
				i++;
			j++;
			continue;
		}
		if (!e->cfg.cmd[cmd]) {
			if (cmd == EXT_SUBNET_REMOVE)
				log_info("Subnet removed: peer %s", k->name);
			apply_without_command(k, cmd, p);
			continue; /* the same pair again: now in step */
		}
		if (start_command(e, k, cmd, p) >= 0)
			return;
		/* Could not even start: as a failure of the command. */
		set_failing(e, k, true);
		free(k->problem);
		if (asprintf(&k->problem, "%s: could not be started", ext_command_name(cmd)) < 0)
			k->problem = NULL;
		k->retry_at = now + backoff_next(&k->backoff, random_u32());
	}
	if (next_retry)
		loop_timer_arm(e->retry_timer, next_retry - now);
}

static int on_retry(struct loop_source *s, void *userdata)
{
	ext_kick(userdata);
	return 0;
}

/* ---- the backend ---- */

/* A start-up command's standard output (bounded) and the end of its standard error. */
struct capture {
	char *buf;
	size_t len;
	struct tail err;
};

static int capture_out(const char *data, size_t len, void *userdata)
{
	struct capture *c = userdata;
	char *nb;

	if (len > EXT_DATA_MAX - c->len)
		return -E2BIG;
	nb = realloc(c->buf, c->len + len + 1);
	if (!nb)
		return -ENOMEM;
	memcpy(nb + c->len, data, len);
	c->buf = nb;
	c->len += len;
	c->buf[c->len] = '\0';
	return 0;
}

static int capture_err(const char *data, size_t len, void *userdata)
{
	struct capture *c = userdata;

	return tail_add(data, len, &c->err);
}

/*
 * Run a start-up command to its end (env: its variables). ret_out: its
 * standard output, trimmed. err: "PreStartupCommand: exit status 1: <the
 * end of its standard error>".
 */
static int run_start_command(struct ext *e, enum ext_command cmd, const char *const *env,
			     char **ret_out, struct errmsg *err)
{
	struct capture c = {0};
	struct errmsg e2 = {{0}};
	char **argv = NULL, st[512];
	size_t argc;
	int status = -1, r;

	r = ext_cmd_split(e->cfg.cmd[cmd], lookup_var, (void *)env, &argv, &argc, &e2);
	if (r < 0) {
		errmsg_set(err, "%s: %s", ext_command_name(cmd), e2.text);
		return r;
	}
	struct spawn_req req = {
		.argv = (const char *const *)argv,
		.in = "\n",
		.in_len = 1,
		.out = capture_out,
		.err_out = capture_err,
		.userdata = &c,
		.timeout_ms = EXT_START_TIMEOUT_MS,
		.env = env,
	};
	r = spawn_run(&req, &status, &e2);
	ext_argv_free(argv);
	if (r < 0) {
		if (r == -E2BIG)
			snprintf(st, sizeof(st), "its output is longer than %d bytes",
				 EXT_DATA_MAX);
		else
			describe_status(r, status, e2.text, st, sizeof(st));
		errmsg_set(err, "%s: %s%s%s", ext_command_name(cmd), st, c.err.len ? ": " : "",
			   trim(c.err.buf));
		free(c.buf);
		return r;
	}
	if (ret_out) {
		char *t = c.buf ? trim(c.buf) : "";
		*ret_out = strdup(t);
		free(c.buf);
		return *ret_out ? 0 : -ENOMEM;
	}
	free(c.buf);
	return 0;
}

static int ext_init(struct backend *b, const char *json, size_t len, struct errmsg *err)
{
	struct ext *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	r = ext_config_parse(json, len, &e->cfg, err);
	if (r < 0) {
		free(e);
		return r;
	}
	if (!b->loop) {
		ext_config_done(&e->cfg);
		free(e);
		errmsg_set(err, "Backend: extension needs the event loop");
		return -EINVAL;
	}
	r = loop_add_timer(b->loop, 0, on_retry, e, "extension retry", &e->retry_timer);
	if (r < 0) {
		ext_config_done(&e->cfg);
		free(e);
		return r;
	}
	loop_timer_disarm(e->retry_timer);
	e->b = b;
	b->impl = e;
	return 0;
}

static void ext_free(struct ext *e)
{
	task_free(e->task);
	loop_source_free(e->retry_timer);
	for (size_t k = 0; k < e->n_desired; k++)
		peer_done(&e->desired[k]);
	free(e->desired);
	for (size_t k = 0; k < e->n_known; k++) {
		free(e->known[k].name);
		free(e->known[k].problem);
		peer_done(&e->known[k].peer);
	}
	free(e->known);
	peer_done(&e->running_peer);
	free(e->running_name);
	free(e->data);
	free(e->data_json);
	ext_config_done(&e->cfg);
	free(e);
}

static void ext_done(struct backend *b)
{
	ext_free(b->impl);
	b->impl = NULL;
}

static int ext_register(struct backend *b, struct lease_attrs *ret_attrs, uint32_t *ret_mtu,
			struct errmsg *err)
{
	struct ext *e = b->impl;
	_cleanup_json_ cJSON *s = NULL;
	int r;

	if (e->cfg.cmd[EXT_PRE_STARTUP] && !e->data) {
		r = run_start_command(e, EXT_PRE_STARTUP, NULL, &e->data, err);
		if (r < 0)
			return r;
		log_info("Ran %s: %s", ext_command_name(EXT_PRE_STARTUP), e->data);
		/* Published as upstream does: the output as a JSON string. */
		s = cJSON_CreateString(e->data);
		e->data_json = s ? json_print(s) : NULL;
		if (!e->data_json)
			return -ENOMEM;
	} else if (!e->cfg.cmd[EXT_PRE_STARTUP]) {
		log_info("No %s configured - skipping", ext_command_name(EXT_PRE_STARTUP));
	}
	*ret_attrs = (struct lease_attrs){.backend_type = "extension"};
	ret_attrs->ext_data = e->data_json;
	*ret_mtu = b->ext.mtu;
	return 0;
}

static int ext_set_lease(struct backend *b, struct errmsg *err)
{
	struct ext *e = b->impl;
	const struct lease *own = b->own;
	const struct ip_net *sub = own->has_subnet ? &own->subnet : &own->subnet6;
	char vars[EXT_ENV_VARS][IP_NET_STRLEN + 16], s[IP_NET_STRLEN];
	const char *env[EXT_ENV_VARS + 1];
	struct ext_peer p = {
		.has_subnet = own->has_subnet,
		.has_subnet6 = own->has_subnet6,
		.subnet = own->subnet,
		.subnet6 = own->subnet6,
		.public_ip = own->public_ip,
		.public_ip6 = own->public_ip6,
	};
	int r;

	if (!e->cfg.cmd[EXT_POST_STARTUP]) {
		if (!e->post_ran)
			log_info("No %s configured - skipping", ext_command_name(EXT_POST_STARTUP));
		e->post_ran = true;
		return 0;
	}
	if (e->post_ran && ip_net_equal(&e->post_subnet, sub))
		return 0;
	peer_env(&p, vars, env);
	snprintf(vars[4], sizeof(vars[4]), "NETWORK=%s",
		 b->has_network[0] ? ip_net_fmt(&b->network[0], s) : "");
	env[4] = vars[4];
	env[5] = NULL;
	r = run_start_command(e, EXT_POST_STARTUP, env, NULL, err);
	if (r < 0)
		return r;
	log_info("Ran %s", ext_command_name(EXT_POST_STARTUP));
	e->post_ran = true;
	e->post_subnet = *sub;
	return 0;
}

static int ext_prepare(struct backend *b, struct plan_params *ret)
{
	*ret = (struct plan_params){.proto = NL_PROTO_FLANNEL};
	return 0;
}

static bool ext_owns_event(const struct backend *b, const struct nl_event *ev)
{
	return false;
}

/* The value of a peer's backend data: a JSON string, or null / nothing ("" then). */
static int decode_data(const char *raw, char **ret)
{
	_cleanup_json_ cJSON *root = NULL;
	const char *s = "";
	int r;

	if (raw) {
		r = json_parse(raw, strlen(raw), LEASE_EXT_DATA_MAX, 1, &root);
		if (r < 0)
			return r;
		if (!cJSON_IsNull(root) && json_as_str(root, &s) < 0)
			return -EINVAL;
	}
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

/* The extension peers, copied (the leases are borrowed only for this call). */
static int ext_reconcile(struct backend *b, const struct lease *const *peers, size_t n)
{
	struct ext *e = b->impl;
	struct ext_peer *v = calloc(n ? n : 1, sizeof(*v));
	size_t m = 0;
	int r = 0;

	if (!v)
		return -ENOMEM;
	memset(b->status.n_skipped_by, 0, sizeof(b->status.n_skipped_by));
	for (size_t k = 0; k < n && r >= 0; k++) {
		const struct lease *l = peers[k];

		if (strcmp(l->attrs.backend_type, "extension") != 0) {
			b->status.n_skipped_by[BACKEND_SKIP_BACKEND_TYPE]++;
			continue;
		}
		if (!l->has_subnet && !l->has_subnet6)
			continue;
		v[m] = (struct ext_peer){
			.has_subnet = l->has_subnet,
			.has_subnet6 = l->has_subnet6,
			.subnet = l->subnet,
			.subnet6 = l->subnet6,
			.public_ip = l->public_ip,
			.public_ip6 = l->public_ip6,
		};
		v[m].name = strdup(l->name);
		r = v[m].name ? decode_data(l->attrs.ext_data, &v[m].data) : -ENOMEM;
		if (r < 0 && r != -ENOMEM) {
			/* The lease parsers only let strings and null through. */
			peer_done(&v[m]);
			r = 0;
			continue;
		}
		m++;
	}
	if (r < 0) {
		for (size_t k = 0; k < m; k++)
			peer_done(&v[k]);
		free(v);
		b->status.last_error = r;
		return r;
	}
	for (size_t k = 0; k < e->n_desired; k++)
		peer_done(&e->desired[k]);
	free(e->desired);
	e->desired = v;
	e->n_desired = m;
	b->status.n_desired = m;
	b->status.n_skipped = b->status.n_skipped_by[BACKEND_SKIP_BACKEND_TYPE];
	b->status.last_error = 0;
	ext_kick(e);
	return 0;
}

static size_t ext_n_peers(const struct backend *b)
{
	const struct ext *e = b->impl;

	return e->n_desired;
}

/* A wanted peer: the reason when its last command failed. */
static void ext_peer_status(const struct backend *b, size_t k, struct backend_peer_status *ret)
{
	struct ext *e = b->impl;
	const struct ext_known *kn = known_find(e, e->desired[k].name);

	ret->name = e->desired[k].name;
	if (kn && kn->failing) {
		ret->refused = -EPROTO;
		ret->problem = kn->problem ? kn->problem : "its last command failed";
	}
}

const struct backend_ops extension_backend_ops = {
	.type = "extension",
	.init = ext_init,
	.done = ext_done,
	.register_ = ext_register,
	.set_lease = ext_set_lease,
	.prepare = ext_prepare,
	.owns_event = ext_owns_event,
	.reconcile = ext_reconcile,
	.n_peers = ext_n_peers,
	.peer_status = ext_peer_status,
};
