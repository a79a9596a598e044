/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rendering of the status view, and the `flanneld status` client. The text
 * form is a table meant for a person at a terminal; the JSON form carries the
 * same facts for scripts. Peers whose kernel entries are missing are marked
 * so that a broken path stands out in a long list.
 */
#include "status.h"

#include <curl/curl.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "lib/json/json.h"

static const char *fmt_time(uint64_t usec, char buf[static 32])
{
	time_t t = (time_t)(usec / USEC_PER_SEC);
	struct tm tm;

	if (usec == 0 || !gmtime_r(&t, &tm))
		return strcpy(buf, "never");
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static const char *entry_state(uint8_t expected, uint8_t present, uint8_t bit)
{
	if (!(expected & bit))
		return "-";
	return (present & bit) ? "ok" : "MISSING";
}

static bool peer_healthy(const struct status_peer *p)
{
	return !p->skipped && (p->present4 & p->expected4) == p->expected4 &&
	       (p->present6 & p->expected6) == p->expected6;
}

static int render_peer_rows(const struct status_report *r, struct buf *out, bool v6)
{
	char subnet[IP_NET_STRLEN], pub[IP_ADDR_STRLEN];
	int width = 4;
	int r2;

	for (size_t i = 0; i < r->n_peers; i++)
		width = MAX(width, (int)strlen(r->peers[i].lease->name));

	r2 = buf_printf(out, "%-*s  %-*s  %-*s  %-7s  %-7s  %-7s  %-7s  %s\n", width, "NODE",
			v6 ? 43 : 18, v6 ? "SUBNET (IPv6)" : "SUBNET", v6 ? 39 : 15, "PUBLIC IP",
			"ROUTE", "NEIGH", "FDB", "WG PEER", "NOTE");
	for (size_t i = 0; r2 >= 0 && i < r->n_peers; i++) {
		const struct status_peer *p = &r->peers[i];
		const struct lease *l = p->lease;
		uint8_t exp = v6 ? p->expected6 : p->expected4;
		uint8_t pre = v6 ? p->present6 : p->present4;

		if (v6 ? !l->has_subnet6 : !l->has_subnet)
			continue;
		ip_net_fmt(v6 ? &l->subnet6 : &l->subnet, subnet);
		ip_addr_fmt(v6 ? &l->public_ip6 : &l->public_ip, pub);
		r2 = buf_printf(
			out, "%-*s  %-*s  %-*s  %-7s  %-7s  %-7s  %-7s  %s%s%s\n", width, l->name,
			v6 ? 43 : 18, subnet, v6 ? 39 : 15, pub,
			entry_state(exp, pre, STATUS_ROUTE), entry_state(exp, pre, STATUS_NEIGH),
			entry_state(exp, pre, STATUS_FDB), entry_state(exp, pre, STATUS_PEER),
			p->skipped   ? "skipped: "
			: p->refused ? "refused: "
				     : "",
			p->problem, p->skipped || p->refused ? "" : "-");
	}
	return r2;
}

int status_render_text(const struct status_report *r, struct buf *out)
{
	char t1[32], t2[32], net[IP_NET_STRLEN], addr[IP_ADDR_STRLEN];
	size_t healthy = 0;
	bool any_v4 = false, any_v6 = false;

	for (size_t i = 0; i < r->n_peers; i++) {
		healthy += peer_healthy(&r->peers[i]);
		any_v4 |= r->peers[i].lease->has_subnet;
		any_v6 |= r->peers[i].lease->has_subnet6;
	}

	buf_printf(out, "Node:        %s (%s%s%s)\n", r->node ? r->node : "?",
		   r->ready ? "ready" : "NOT READY", r->ready || !r->waiting_for ? "" : ": ",
		   r->ready || !r->waiting_for ? "" : r->waiting_for);
	if (r->own) {
		if (r->own->has_subnet)
			buf_printf(out, "Lease:       %s  public IP %s\n",
				   ip_net_fmt(&r->own->subnet, net),
				   ip_addr_fmt(&r->own->public_ip, addr));
		if (r->own->has_subnet6)
			buf_printf(out, "Lease IPv6:  %s  public IP %s\n",
				   ip_net_fmt(&r->own->subnet6, net),
				   ip_addr_fmt(&r->own->public_ip6, addr));
	} else {
		buf_puts(out, "Lease:       none yet\n");
	}
	buf_printf(out, "Backend:     %s, device %s%s%s, external interface %s\n",
		   r->backend_type ? r->backend_type : "?", r->device ? r->device : "-",
		   r->device6 ? " and " : "", r->device6 ? r->device6 : "",
		   r->ext_iface ? r->ext_iface : "-");
	buf_printf(out,
		   "Reconciled:  %" PRIu64 " times, last %s; drift found %" PRIu64
		   ", repaired %" PRIu64 "\n",
		   r->reconciles, fmt_time(r->last_reconcile_usec, t1), r->drift_found,
		   r->drift_repaired);
	buf_printf(out, "API synced:  %s (running since %s)\n", fmt_time(r->last_sync_usec, t1),
		   fmt_time(r->started_usec, t2));
	buf_printf(out, "Peers:       %zu, %zu with every kernel entry present\n", r->n_peers,
		   healthy);

	if (any_v4 || (!any_v6 && r->n_peers == 0)) {
		buf_puts(out, "\n");
		render_peer_rows(r, out, false);
	}
	if (any_v6) {
		buf_puts(out, "\n");
		render_peer_rows(r, out, true);
	}

	if (r->n_invalid > 0) {
		buf_printf(out, "\nInvalid nodes (no kernel entry made from them): %zu\n",
			   r->n_invalid);
		for (size_t i = 0; i < r->n_invalid; i++)
			buf_printf(out, "  %s  %s\n", r->invalid[i].name, r->invalid[i].error);
	}

	if (r->network_policy) {
		buf_puts(out, "\n");
		buf_puts(out, r->network_policy);
	}

	buf_puts(out, "\nRecent errors:");
	if (r->n_errors == 0)
		buf_puts(out, " none\n");
	else
		buf_puts(out, "\n");
	for (size_t i = 0; i < r->n_errors; i++)
		buf_printf(out, "  %s  %s\n", fmt_time(r->errors[i].when_usec, t1),
			   r->errors[i].text);
	return out->data ? 0 : -ENOMEM;
}

static cJSON *entries_json(uint8_t expected, uint8_t present)
{
	cJSON *o = cJSON_CreateObject();

	if (expected & STATUS_ROUTE)
		cJSON_AddBoolToObject(o, "route", present & STATUS_ROUTE);
	if (expected & STATUS_NEIGH)
		cJSON_AddBoolToObject(o, "neigh", present & STATUS_NEIGH);
	if (expected & STATUS_FDB)
		cJSON_AddBoolToObject(o, "fdb", present & STATUS_FDB);
	if (expected & STATUS_PEER)
		cJSON_AddBoolToObject(o, "wg_peer", present & STATUS_PEER);
	return o;
}

static void add_lease_fields(cJSON *o, const struct lease *l)
{
	char buf[IP_NET_STRLEN];

	if (l->has_subnet) {
		cJSON_AddStringToObject(o, "subnet", ip_net_fmt(&l->subnet, buf));
		cJSON_AddStringToObject(o, "publicIP", ip_addr_fmt(&l->public_ip, buf));
	}
	if (l->has_subnet6) {
		cJSON_AddStringToObject(o, "subnetIPv6", ip_net_fmt(&l->subnet6, buf));
		cJSON_AddStringToObject(o, "publicIPv6", ip_addr_fmt(&l->public_ip6, buf));
	}
}

int status_render_json(const struct status_report *r, struct buf *out)
{
	_cleanup_json_ cJSON *root = cJSON_CreateObject();
	_cleanup_free_ char *text = NULL;
	cJSON *peers, *errors;
	char t[32];

	if (!root)
		return -ENOMEM;
	cJSON_AddStringToObject(root, "node", r->node ? r->node : "");
	cJSON_AddBoolToObject(root, "ready", r->ready);
	if (!r->ready && r->waiting_for)
		cJSON_AddStringToObject(root, "waitingFor", r->waiting_for);
	if (r->own) {
		cJSON *own = cJSON_AddObjectToObject(root, "lease");
		add_lease_fields(own, r->own);
	}
	cJSON_AddStringToObject(root, "backend", r->backend_type ? r->backend_type : "");
	cJSON_AddStringToObject(root, "device", r->device ? r->device : "");
	if (r->device6)
		cJSON_AddStringToObject(root, "deviceIPv6", r->device6);
	cJSON_AddStringToObject(root, "externalInterface", r->ext_iface ? r->ext_iface : "");
	cJSON_AddStringToObject(root, "startedAt", fmt_time(r->started_usec, t));
	cJSON_AddStringToObject(root, "lastReconcile", fmt_time(r->last_reconcile_usec, t));
	cJSON_AddStringToObject(root, "lastSync", fmt_time(r->last_sync_usec, t));
	cJSON_AddNumberToObject(root, "reconciles", (double)r->reconciles);
	cJSON_AddNumberToObject(root, "driftFound", (double)r->drift_found);
	cJSON_AddNumberToObject(root, "driftRepaired", (double)r->drift_repaired);

	peers = cJSON_AddArrayToObject(root, "peers");
	for (size_t i = 0; i < r->n_peers; i++) {
		const struct status_peer *p = &r->peers[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", p->lease->name);
		add_lease_fields(o, p->lease);
		cJSON_AddBoolToObject(o, "healthy", peer_healthy(p));
		if (p->skipped)
			cJSON_AddStringToObject(o, "skipped", p->skipped);
		if (p->refused)
			cJSON_AddBoolToObject(o, "refused", true);
		if (p->skipped || p->refused)
			cJSON_AddStringToObject(o, "problem", p->problem);
		if (p->expected4)
			cJSON_AddItemToObject(o, "ipv4", entries_json(p->expected4, p->present4));
		if (p->expected6)
			cJSON_AddItemToObject(o, "ipv6", entries_json(p->expected6, p->present6));
		cJSON_AddItemToArray(peers, o);
	}
	if (r->n_invalid > 0) {
		cJSON *inv = cJSON_AddArrayToObject(root, "invalidNodes");
		for (size_t i = 0; inv && i < r->n_invalid; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", r->invalid[i].name);
			cJSON_AddStringToObject(o, "error", r->invalid[i].error);
			cJSON_AddItemToArray(inv, o);
		}
	}
	if (r->network_policy) {
		/* the engine's text view, one array element per line */
		cJSON *np = cJSON_AddArrayToObject(root, "networkPolicy");
		const char *line = r->network_policy;
		while (np && *line) {
			size_t len = strcspn(line, "\n");
			char *l = strndup(line, len);
			if (l)
				cJSON_AddItemToArray(np, cJSON_CreateString(l));
			free(l);
			line += len + (line[len] == '\n');
		}
	}
	errors = cJSON_AddArrayToObject(root, "errors");
	for (size_t i = 0; i < r->n_errors; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "time", fmt_time(r->errors[i].when_usec, t));
		cJSON_AddStringToObject(o, "message", r->errors[i].text);
		cJSON_AddItemToArray(errors, o);
	}

	text = cJSON_Print(root);
	if (!text)
		return -ENOMEM;
	buf_puts(out, text);
	return buf_puts(out, "\n");
}

static size_t collect(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;

	if (b->len + size * nmemb > 16 * 1024 * 1024)
		return 0;
	return buf_append(b, data, size * nmemb) < 0 ? 0 : size * nmemb;
}

int status_client_main(int argc, char **argv)
{
	static const struct option options[] = {
		{"json", no_argument, NULL, 'j'},
		{"healthz-ip", required_argument, NULL, 'i'},
		{"healthz-port", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	const char *ip = "127.0.0.1", *port = "8081";
	_cleanup_buf_ struct buf body = BUF_INIT;
	char url[128];
	bool json = false;
	long code = 0;
	CURLcode rc;
	CURL *c;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'i':
			ip = optarg;
			break;
		case 'p':
			port = optarg;
			break;
		case 'h':
			fprintf(stdout, "Usage: flanneld status [--json] [--healthz-ip IP] "
					"[--healthz-port PORT]\n\nShows the running agent's lease, "
					"peers and kernel entries, read from its health endpoint\n"
					"(flanneld must run with --healthz-port).\n");
			return 0;
		default:
			return 2;
		}
	}
	if (strcmp(ip, "0.0.0.0") == 0)
		ip = "127.0.0.1";
	else if (strcmp(ip, "::") == 0)
		ip = "::1";
	snprintf(url, sizeof(url),
		 strchr(ip, ':') ? "http://[%s]:%s/status%s" : "http://%s:%s/status%s", ip, port,
		 json ? "?format=json" : "");

	c = curl_easy_init();
	if (!c)
		return 1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		fprintf(stderr,
			"flanneld status: %s: %s (is flanneld running with --healthz-port=%s?)\n",
			url, curl_easy_strerror(rc), port);
		return 1;
	}
	fwrite(body.data ? body.data : "", 1, body.len, stdout);
	return code == 200 ? 0 : 1;
}
