/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The read-back of our table from nft's JSON listing. See listing.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "lib/json/json.h"
#include "netpol/listing.h"

#define LISTING_MAX	  (512u * 1024 * 1024)
#define LISTING_MAX_DEPTH 64
#define BASE_RULES	  5 /* rules in each base chain, as plan.c writes them */

static bool hex16(const char *s)
{
	for (int i = 0; i < 16; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* s<16 hex>-4 etc.: our set names; returns the type or -1. */
static int our_set(const char *name)
{
	size_t len = strlen(name);

	if (len != 19 || (name[0] != 's' && name[0] != 'n') || !hex16(name + 1) ||
	    name[17] != '-' || (name[18] != '4' && name[18] != '6'))
		return -1;
	if (name[0] == 's')
		return name[18] == '4' ? NP_SET_ADDR4 : NP_SET_ADDR6;
	return name[18] == '4' ? NP_SET_ADDRPORT4 : NP_SET_ADDRPORT6;
}

static bool our_chain(const char *name)
{
	return strlen(name) == 17 && (name[0] == 'p' || name[0] == 'c') && hex16(name + 1);
}

static int map_id(const char *name)
{
	for (int m = 0; m < _NP_MAP_MAX; m++)
		if (strcmp(name, np_map_name(m)) == 0)
			return m;
	return -1;
}

static int parse_addr(const cJSON *item, bool v6, struct np_elem *e)
{
	const char *s;

	if (json_as_str(item, &s) < 0)
		return -EBADMSG;
	return inet_pton(v6 ? AF_INET6 : AF_INET, s, e->addr) == 1 ? 0 : -EBADMSG;
}

static int parse_elem(const cJSON *item, enum np_set_type type, bool map, struct np_elem *e)
{
	bool v6 = np_set_type_v6(type);

	*e = (struct np_elem){};
	if (cJSON_IsObject(item) && json_item(item, "elem")) /* {"elem": {"val": ...}} */
		item = json_item(json_item(item, "elem"), "val");
	if (map) {
		const cJSON *key = cJSON_GetArrayItem(item, 0), *v = cJSON_GetArrayItem(item, 1);
		const char *target;

		if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != 2 ||
		    json_get_str(json_item(v, "jump"), "target", &target) < 0 ||
		    strlen(target) >= NP_NAME_LEN)
			return -EBADMSG;
		strcpy(e->chain, target);
		return parse_addr(key, v6, e);
	}
	if (type == NP_SET_ADDR4 || type == NP_SET_ADDR6)
		return parse_addr(item, v6, e);
	const cJSON *concat = json_item(item, "concat");
	uint32_t port;
	if (!cJSON_IsArray(concat) || cJSON_GetArraySize(concat) != 2 ||
	    json_as_u32(cJSON_GetArrayItem(concat, 1), &port) < 0 || port > 65535)
		return -EBADMSG;
	e->port = (uint16_t)port;
	return parse_addr(cJSON_GetArrayItem(concat, 0), v6, e);
}

static int parse_elems(const cJSON *obj, struct np_set *set, bool map, const char *name,
		       struct errmsg *err)
{
	const cJSON *elems = json_item(obj, "elem"), *item;

	if (!elems)
		return 0;
	if (!cJSON_IsArray(elems)) {
		errmsg_set(err, "set %s: elem is not an array", name);
		return -EBADMSG;
	}
	cJSON_ArrayForEach (item, elems) {
		struct np_elem e;
		int r = parse_elem(item, set->type, map, &e);
		if (r < 0) {
			errmsg_set(err, "set %s: unexpected element", name);
			return r;
		}
		r = np_set_add(set, &e);
		if (r < 0)
			return r;
	}
	return 0;
}

int np_listing_parse(const char *data, size_t len, struct np_state *out, struct errmsg *err)
{
	_cleanup_json_ cJSON *root = NULL;
	const cJSON *list, *item;
	bool table = false, maps[_NP_MAP_MAX] = {};
	unsigned base_chain_rules[2] = {}, base_chains = 0;
	int r;

	r = json_parse(data, len, LISTING_MAX, LISTING_MAX_DEPTH, &root);
	if (r < 0) {
		errmsg_set(err, "nft listing: not JSON");
		return -EBADMSG;
	}
	list = json_item(root, "nftables");
	if (!cJSON_IsArray(list)) {
		errmsg_set(err, "nft listing: no \"nftables\" array");
		return -EBADMSG;
	}
	cJSON_ArrayForEach (item, list) {
		const cJSON *o;
		const char *name;

		if ((o = json_item(item, "table"))) {
			table = true;
		} else if ((o = json_item(item, "set")) || (o = json_item(item, "map"))) {
			bool is_map = json_item(item, "map") != NULL;
			int type;

			if (json_get_str(o, "name", &name) < 0)
				continue;
			if (is_map) {
				int m = map_id(name);
				if (m < 0)
					continue;
				maps[m] = true;
				out->maps[m].type = (m == NP_MAP_I6 || m == NP_MAP_E6)
							    ? NP_SET_ADDR6
							    : NP_SET_ADDR4;
				r = parse_elems(o, &out->maps[m], true, name, err);
			} else {
				type = our_set(name);
				if (type < 0)
					continue;
				struct np_set *set =
					np_state_add_set(out, name, (enum np_set_type)type);
				if (!set)
					return -ENOMEM;
				r = parse_elems(o, set, false, name, err);
			}
			if (r < 0)
				return r;
		} else if ((o = json_item(item, "chain"))) {
			if (json_get_str(o, "name", &name) < 0)
				continue;
			if (strcmp(name, NP_CHAIN_IN) == 0 || strcmp(name, NP_CHAIN_OUT) == 0) {
				base_chains++;
				continue;
			}
			if (!our_chain(name))
				continue;
			char *body = strdup("");
			r = np_state_add_chain(out, name, body);
			if (r < 0)
				return r;
		} else if ((o = json_item(item, "rule"))) {
			if (json_get_str(o, "chain", &name) < 0)
				continue;
			if (strcmp(name, NP_CHAIN_OUT) == 0)
				base_chain_rules[0]++;
			else if (strcmp(name, NP_CHAIN_IN) == 0)
				base_chain_rules[1]++;
		}
	}
	out->has_table = table && base_chains == 2 && base_chain_rules[0] == BASE_RULES &&
			 base_chain_rules[1] == BASE_RULES;
	for (int m = 0; m < _NP_MAP_MAX; m++)
		out->has_table = out->has_table && maps[m];
	np_state_sort(out);
	return 0;
}
