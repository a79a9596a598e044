/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The table's contents as data. See state.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netpol/state.h"

static const char *const map_names[_NP_MAP_MAX] = {
	[NP_MAP_I4] = "i4",
	[NP_MAP_I6] = "i6",
	[NP_MAP_E4] = "e4",
	[NP_MAP_E6] = "e6",
};

const char *np_map_name(enum np_map_id id)
{
	return map_names[id];
}

bool np_set_type_v6(enum np_set_type t)
{
	return t == NP_SET_ADDR6 || t == NP_SET_ADDRPORT6;
}

static void set_done(struct np_set *set)
{
	free(set->e);
	set->e = NULL;
	set->n = set->cap = 0;
}

void np_state_done(struct np_state *s)
{
	for (size_t i = 0; i < s->n_sets; i++)
		set_done(&s->sets[i]);
	free(s->sets);
	for (size_t i = 0; i < s->n_chains; i++)
		free(s->chains[i].body);
	free(s->chains);
	for (int m = 0; m < _NP_MAP_MAX; m++)
		set_done(&s->maps[m]);
	*s = (struct np_state){};
}

struct np_set *np_state_add_set(struct np_state *s, const char *name, enum np_set_type type)
{
	if (s->n_sets == s->cap_sets) {
		size_t cap = s->cap_sets ? 2 * s->cap_sets : 16;
		struct np_set *n = realloc(s->sets, cap * sizeof(*n));
		if (!n)
			return NULL;
		s->sets = n;
		s->cap_sets = cap;
	}
	struct np_set *set = &s->sets[s->n_sets++];
	*set = (struct np_set){.type = type};
	snprintf(set->name, sizeof(set->name), "%s", name);
	s->sorted = false;
	return set;
}

int np_set_add(struct np_set *set, const struct np_elem *e)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 8;
		struct np_elem *n = realloc(set->e, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		set->e = n;
		set->cap = cap;
	}
	set->e[set->n++] = *e;
	return 0;
}

int np_state_add_chain(struct np_state *s, const char *name, char *body)
{
	if (!body)
		return -ENOMEM;
	if (s->n_chains == s->cap_chains) {
		size_t cap = s->cap_chains ? 2 * s->cap_chains : 16;
		struct np_chain *n = realloc(s->chains, cap * sizeof(*n));
		if (!n) {
			free(body);
			return -ENOMEM;
		}
		s->chains = n;
		s->cap_chains = cap;
	}
	struct np_chain *c = &s->chains[s->n_chains++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->body = body;
	s->sorted = false;
	return 0;
}

static int cmp_elem(const void *a, const void *b)
{
	const struct np_elem *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, sizeof(x->addr));

	if (c)
		return c;
	return x->port < y->port ? -1 : x->port > y->port;
}

static void sort_set(struct np_set *set)
{
	size_t w = 0;

	if (set->n < 2)
		return;
	qsort(set->e, set->n, sizeof(*set->e), cmp_elem);
	for (size_t i = 0; i < set->n; i++)
		if (!w || cmp_elem(&set->e[w - 1], &set->e[i]) != 0)
			set->e[w++] = set->e[i];
	set->n = w;
}

static int cmp_set(const void *a, const void *b)
{
	return strcmp(((const struct np_set *)a)->name, ((const struct np_set *)b)->name);
}

static int cmp_chain(const void *a, const void *b)
{
	return strcmp(((const struct np_chain *)a)->name, ((const struct np_chain *)b)->name);
}

void np_state_sort(struct np_state *s)
{
	size_t w = 0;

	if (s->n_sets)
		qsort(s->sets, s->n_sets, sizeof(*s->sets), cmp_set);
	for (size_t i = 0; i < s->n_sets; i++) {
		if (w && strcmp(s->sets[w - 1].name, s->sets[i].name) == 0) {
			/* the same set twice: merge elements */
			for (size_t j = 0; j < s->sets[i].n; j++)
				(void)np_set_add(&s->sets[w - 1], &s->sets[i].e[j]);
			set_done(&s->sets[i]);
			continue;
		}
		s->sets[w++] = s->sets[i];
	}
	s->n_sets = w;
	for (size_t i = 0; i < s->n_sets; i++)
		sort_set(&s->sets[i]);
	for (int m = 0; m < _NP_MAP_MAX; m++)
		sort_set(&s->maps[m]);

	if (s->n_chains)
		qsort(s->chains, s->n_chains, sizeof(*s->chains), cmp_chain);
	w = 0;
	for (size_t i = 0; i < s->n_chains; i++) {
		if (w && strcmp(s->chains[w - 1].name, s->chains[i].name) == 0) {
			free(s->chains[i].body);
			continue;
		}
		s->chains[w++] = s->chains[i];
	}
	s->n_chains = w;
	s->sorted = true;
}

const struct np_set *np_state_find_set(const struct np_state *s, const char *name)
{
	struct np_set key = {};

	if (!s->n_sets)
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, s->sets, s->n_sets, sizeof(*s->sets), cmp_set);
}

const struct np_chain *np_state_find_chain(const struct np_state *s, const char *name)
{
	struct np_chain key = {};

	if (!s->n_chains)
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, s->chains, s->n_chains, sizeof(*s->chains), cmp_chain);
}

void np_hash_name(char out[static NP_NAME_LEN], char prefix, const char *data, size_t len,
		  const char *suffix)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)data[i]) * 1099511628211ull;
	snprintf(out, NP_NAME_LEN, "%c%016llx%s", prefix, (unsigned long long)h,
		 suffix ? suffix : "");
}
