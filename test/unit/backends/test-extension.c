/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of backends/extension.c with a real event loop and real
 * commands (a recorder script run by /bin/sh): PreStartupCommand's output
 * as the published data, PostStartupCommand's variables, one add per peer
 * with its variables and data on stdin, nothing run again when nothing
 * changed, remove of the old lease before the add of a changed one,
 * remove of a peer gone, peers of another type left alone, and a failing
 * command counted, retried with backoff and recovered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "lib/core/fileio.h"
#include "lib/core/loop.h"

struct fixture {
	char dir[64];
	char script[128], log[128], fail[128];
	struct loop *loop;
	struct nlh *nl;
	struct backend *b;
};

static const char *const SCRIPT =
	"kind=$1; shift\n"
	"in=$(cat)\n"
	"if [ -e \"$FAIL\" ]; then echo \"no way: $kind\" >&2; exit 5; fi\n"
	"echo \"$kind $*|${SUBNET-}|${PUBLIC_IP-}|${NETWORK-}|$in\" >>\"$LOG\"\n"
	"[ \"$kind\" = pre ] && printf '  key \"1\"\\n\\n'\n"
	"exit 0\n";

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	FILE *s;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test-extension.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->script, sizeof(f->script), "%s/rec.sh", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/log", f->dir);
	snprintf(f->fail, sizeof(f->fail), "%s/fail", f->dir);
	s = fopen(f->script, "w");
	assert_non_null(s);
	fputs(SCRIPT, s);
	fclose(s);
	setenv("LOG", f->log, 1);
	setenv("FAIL", f->fail, 1);
	assert_int_equal(loop_new(&f->loop), 0);
	assert_int_equal(nlh_new(&f->nl), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	backend_free(f->b);
	nlh_free(f->nl);
	loop_free(f->loop);
	unlink(f->script);
	unlink(f->log);
	unlink(f->fail);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The recorded lines, "" when none. */
static char *log_text(const struct fixture *f)
{
	char *text = NULL;
	size_t len;

	if (read_file_bounded(f->log, 1 << 20, &text, &len) < 0)
		return strdup("");
	return text;
}

static size_t log_lines(const struct fixture *f)
{
	char *t = log_text(f);
	size_t n = 0;

	for (char *p = t; *p; p++)
		n += *p == '\n';
	free(t);
	return n;
}

/* Run the loop until the log has n lines (fails after 10 s). */
static void run_until(struct fixture *f, size_t n)
{
	for (int i = 0; i < 1000 && log_lines(f) < n; i++)
		loop_run_once(f->loop, 10 * 1000);
	assert_int_equal(log_lines(f), n);
}

/* Run the loop until cond holds (a command's end reaches the loop after its output). */
#define RUN_UNTIL(f, cond)                                   \
	do {                                                 \
		for (int i_ = 0; i_ < 1000 && !(cond); i_++) \
			loop_run_once((f)->loop, 10 * 1000); \
		assert_true(cond);                           \
	} while (0)

static uint64_t status_of(const struct fixture *f, size_t off)
{
	struct backend_status st;

	backend_status(f->b, &st);
	return off == 0 ? st.entries_added : off == 1 ? st.entries_removed : st.n_refused;
}

/* Run the loop for ms milliseconds. */
static void run_for(struct fixture *f, unsigned ms)
{
	uint64_t end = now_monotonic_usec() + ms * 1000ull;

	while (now_monotonic_usec() < end)
		loop_run_once(f->loop, 10 * 1000);
}

static struct lease peer(const char *name, const char *subnet, const char *ip, const char *data)
{
	struct lease l = {.name = name, .has_subnet = true};

	assert_int_equal(ip_net_parse(subnet, &l.subnet), 0);
	assert_int_equal(ip_addr_parse(ip, &l.public_ip), 0);
	strcpy(l.attrs.backend_type, "extension");
	l.attrs.ext_data = data;
	return l;
}

static void start(struct fixture *f)
{
	char json[1024];
	struct ext_iface ext = {.mtu = 1400};
	struct backend_config cfg = {
		.type = "extension",
		.json = json,
		.ext = &ext,
		.ipv4 = true,
		.has_network = true,
		.loop = f->loop,
	};
	struct lease_attrs attrs;
	struct lease own = {.name = "self", .has_subnet = true};
	struct errmsg err = {{0}};
	uint32_t mtu = 0;

	snprintf(json, sizeof(json),
		 "{\"Type\":\"extension\",\"PreStartupCommand\":\"/bin/sh %s pre\","
		 "\"PostStartupCommand\":\"/bin/sh %s post $SUBNET\","
		 "\"SubnetAddCommand\":\"/bin/sh %s add ${SUBNET}\","
		 "\"SubnetRemoveCommand\":\"/bin/sh %s remove $SUBNET\"}",
		 f->script, f->script, f->script, f->script);
	cfg.json_len = strlen(json);
	assert_int_equal(ip_net_parse("198.18.0.0/16", &cfg.network), 0);
	assert_int_equal(backend_new(f->nl, &cfg, &f->b, &err), 0);
	assert_int_equal(backend_register(f->b, &attrs, &mtu, &err), 0);
	assert_string_equal(attrs.backend_type, "extension");
	/* trimmed, as a JSON string */
	assert_string_equal(attrs.ext_data, "\"key \\\"1\\\"\"");
	assert_int_equal(mtu, 1400);
	assert_int_equal(ip_net_parse("198.18.9.0/24", &own.subnet), 0);
	assert_int_equal(ip_addr_parse("203.0.113.9", &own.public_ip), 0);
	own.attrs = attrs;
	assert_int_equal(backend_set_lease(f->b, &own, &err), 0);
}

static void test_commands(void **state)
{
	struct fixture *f = *state;
	struct backend_status st;
	_cleanup_free_ char *t1 = NULL, *t2 = NULL, *t3 = NULL;
	struct lease a = peer("a", "198.18.1.0/24", "203.0.113.1", "\"data a\"");
	struct lease b = peer("b", "198.18.2.0/24", "203.0.113.2", "null");
	struct lease v = peer("v", "198.18.3.0/24", "203.0.113.3", NULL);
	const struct lease *peers[] = {&a, &b, &v};

	start(f);
	strcpy(v.attrs.backend_type, "vxlan");
	assert_int_equal(backend_reconcile(f->b, peers, 3), 0);
	run_until(f, 4);
	t1 = log_text(f);
	assert_string_equal(t1, "pre ||||\n"
				"post 198.18.9.0/24|198.18.9.0/24|203.0.113.9|198.18.0.0/16|\n"
				"add 198.18.1.0/24|198.18.1.0/24|203.0.113.1||data a\n"
				"add 198.18.2.0/24|198.18.2.0/24|203.0.113.2||\n");
	RUN_UNTIL(f, status_of(f, 0) == 2);
	backend_status(f->b, &st);
	assert_int_equal(st.n_skipped_by[BACKEND_SKIP_BACKEND_TYPE], 1);

	/* Nothing changed: nothing runs. */
	assert_int_equal(backend_reconcile(f->b, peers, 3), 0);
	run_for(f, 300);
	assert_int_equal(log_lines(f), 4);

	/* b's lease changes: its old lease is removed first; a goes away. */
	assert_int_equal(ip_addr_parse("203.0.113.22", &b.public_ip), 0);
	b.attrs.ext_data = "\"new b\"";
	const struct lease *peers2[] = {&b};
	assert_int_equal(backend_reconcile(f->b, peers2, 1), 0);
	run_until(f, 7);
	t2 = log_text(f);
	assert_string_equal(t2 + strlen(t1),
			    "remove 198.18.1.0/24|198.18.1.0/24|203.0.113.1||data a\n"
			    "remove 198.18.2.0/24|198.18.2.0/24|203.0.113.2||\n"
			    "add 198.18.2.0/24|198.18.2.0/24|203.0.113.22||new b\n");
	RUN_UNTIL(f, status_of(f, 1) == 2 && status_of(f, 0) == 3);

	/* A failing add: counted, retried with backoff, then done. */
	FILE *fail = fopen(f->fail, "w");
	assert_non_null(fail);
	fclose(fail);
	const struct lease *peers3[] = {&a, &b};
	assert_int_equal(backend_reconcile(f->b, peers3, 2), 0);
	RUN_UNTIL(f, status_of(f, 2) == 1);
	backend_status(f->b, &st);
	assert_true(st.op_errors >= 1);
	/* The status view: both peers, a's command failing with its reason. */
	struct backend_peer_status ps;
	assert_int_equal(st.n_peers, 2);
	assert_int_equal(backend_peer_find(f->b, "a", &ps), 0);
	assert_int_equal(ps.refused, -EPROTO);
	assert_string_equal(ps.problem, "SubnetAddCommand: exit status 5: no way: add");
	assert_int_equal(backend_peer_find(f->b, "b", &ps), 0);
	assert_null(ps.problem);
	assert_int_equal(backend_peer_find(f->b, "c", &ps), -ENOENT);
	assert_int_equal(log_lines(f), 7);
	unlink(f->fail);
	run_until(f, 8);
	t3 = log_text(f);
	assert_string_equal(t3 + strlen(t2),
			    "add 198.18.1.0/24|198.18.1.0/24|203.0.113.1||data a\n");
	RUN_UNTIL(f, status_of(f, 2) == 0);
	assert_int_equal(backend_peer_find(f->b, "a", &ps), 0);
	assert_null(ps.problem);
}

static void test_bad_config(void **state)
{
	struct fixture *f = *state;
	struct ext_iface ext = {.mtu = 1500};
	const char *json = "{\"Type\":\"extension\",\"SubnetRemoveCommand\":true}";
	struct backend_config cfg = {.type = "extension",
				     .json = json,
				     .json_len = strlen(json),
				     .ext = &ext,
				     .ipv4 = true,
				     .loop = f->loop};
	struct errmsg err = {{0}};
	struct lease_attrs attrs;
	uint32_t mtu;

	assert_int_equal(backend_new(f->nl, &cfg, &f->b, &err), -EINVAL);
	assert_string_equal(err.text, "Backend: SubnetRemoveCommand: expected a string, got bool");
	/* A PreStartupCommand that fails: the error says which, with its status and stderr. */
	json = "{\"PreStartupCommand\":\"/bin/sh -c exit\"}";
	cfg.json = json;
	cfg.json_len = strlen(json);
	assert_int_equal(backend_new(f->nl, &cfg, &f->b, &err), 0);
	assert_int_equal(backend_register(f->b, &attrs, &mtu, &err), 0); /* sh -c exit: 0 */
	backend_free(f->b);
	json = "{\"PreStartupCommand\":\"/bin/sh -c no-such-program-here\"}";
	cfg.json = json;
	cfg.json_len = strlen(json);
	assert_int_equal(backend_new(f->nl, &cfg, &f->b, &err), 0);
	assert_int_equal(backend_register(f->b, &attrs, &mtu, &err), -EPROTO);
	assert_non_null(strstr(err.text, "PreStartupCommand: exit status 127: "));
	assert_non_null(strstr(err.text, "not found"));
	backend_free(f->b);
	json = "{\"PreStartupCommand\":\"/nonexistent/program\"}";
	cfg.json = json;
	cfg.json_len = strlen(json);
	assert_int_equal(backend_new(f->nl, &cfg, &f->b, &err), 0);
	assert_int_equal(backend_register(f->b, &attrs, &mtu, &err), -ENOENT);
	assert_string_equal(err.text,
			    "PreStartupCommand: /nonexistent/program: executable not found");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
