/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubeconfig YAML subset -> cJSON. The text is first cut into logical lines
 * (indent, content, line number), skipping blank and comment lines; a
 * recursive descent over the lines then builds mappings and sequences by
 * indentation. A sequence item "- key: v" is handled by re-reading the same
 * line as a mapping indented to the column after "- ", which is what YAML's
 * compact nesting means.
 */
#include <stdbool.h>
#include <string.h>

#include "kube/yaml.h"
#include "lib/core/hex.h"
#include "lib/core/macro.h"
#include "lib/json/json.h"

struct yline {
	unsigned indent;
	unsigned lineno;
	char *text; /* into the copy; NUL-terminated, trailing spaces removed */
};

struct yparser {
	struct yline *lines;
	size_t n, i;
	struct errmsg *err;
};

static int yerr(struct yparser *p, unsigned lineno, const char *what)
{
	errmsg_set(p->err, "line %u: %s", lineno, what);
	return -EINVAL;
}

static bool is_seq_item(const char *t)
{
	return t[0] == '-' && (t[1] == '\0' || t[1] == ' ');
}

static void rtrim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

static int put_utf8(char **o, uint32_t cp)
{
	char *w = *o;

	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -EINVAL;
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | (cp >> 6));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | (cp >> 12));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | (cp >> 18));
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	*o = w;
	return 0;
}

/*
 * A quoted scalar starting at s (s[0] is the quote). Decoded in place into
 * out (which may alias s: decoding never grows). *end is set past the
 * closing quote.
 */
static int unquote(char *s, char *out, char **end)
{
	char q = s[0], *r = s + 1, *w = out;

	for (;;) {
		char c = *r;
		if (c == '\0')
			return -EINVAL; /* unterminated (or multi-line) */
		if (q == '\'') {
			if (c == '\'' && r[1] == '\'') {
				*w++ = '\'';
				r += 2;
				continue;
			}
			if (c == '\'')
				break;
			*w++ = c;
			r++;
			continue;
		}
		if (c == '"')
			break;
		if (c != '\\') {
			*w++ = c;
			r++;
			continue;
		}
		c = r[1];
		r += 2;
		switch (c) {
		case '\\':
		case '"':
		case '/':
			*w++ = c;
			break;
		case 'n':
			*w++ = '\n';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'r':
			*w++ = '\r';
			break;
		case 'x':
		case 'u':
		case 'U': {
			unsigned digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
			uint32_t cp = 0;
			for (unsigned k = 0; k < digits; k++) {
				int v = hex_digit(r[k]);
				if (v < 0)
					return -EINVAL;
				cp = cp << 4 | (uint32_t)v;
			}
			r += digits;
			/* \U with 8 digits never shrinks below what it writes (4 bytes max) */
			if (put_utf8(&w, cp) < 0)
				return -EINVAL;
			break;
		}
		default:
			return -EINVAL;
		}
	}
	*w = '\0';
	*end = r + 1;
	return 0;
}

/* After a value: only spaces and an optional " #comment". */
static bool only_comment(const char *s)
{
	while (*s == ' ')
		s++;
	return *s == '\0' || *s == '#';
}

static int parse_scalar(struct yparser *p, unsigned lineno, char *s, cJSON **ret)
{
	cJSON *v;

	if (s[0] == '"' || s[0] == '\'') {
		char *end;
		if (unquote(s, s, &end) < 0)
			return yerr(p, lineno, "invalid quoted scalar");
		if (!only_comment(end))
			return yerr(p, lineno, "unexpected text after quoted scalar");
		v = cJSON_CreateString(s);
	} else if (s[0] == '{' || s[0] == '[') {
		char open = s[0];
		char *t = s + 1;
		while (*t == ' ')
			t++;
		if (*t != (open == '{' ? '}' : ']') || !only_comment(t + 1))
			return yerr(p, lineno, "flow collections are not supported");
		v = open == '{' ? cJSON_CreateObject() : cJSON_CreateArray();
	} else if (strchr("&*!|>%@`", s[0])) {
		return yerr(p, lineno,
			    "unsupported YAML feature (anchor, alias, tag or block scalar)");
	} else {
		char *hash = strstr(s, " #");
		if (hash)
			*hash = '\0';
		rtrim(s);
		if (strcmp(s, "~") == 0 || strcmp(s, "null") == 0)
			v = cJSON_CreateNull();
		else
			v = cJSON_CreateString(s);
	}
	if (!v)
		return -ENOMEM;
	*ret = v;
	return 0;
}

/* "key: value" / "key:" → the key (decoded in place) and the value text. */
static int split_key(struct yparser *p, unsigned lineno, char *t, char **key, char **value,
		     bool *is_map)
{
	char *colon;

	*is_map = false;
	if (t[0] == '"' || t[0] == '\'') {
		char *end;
		char *save = strdup(t);
		if (!save)
			return -ENOMEM;
		if (unquote(t, t, &end) < 0 || end[0] != ':' || (end[1] != ' ' && end[1] != '\0')) {
			/* not a key: a quoted scalar; restore the text */
			strcpy(t, save);
			free(save);
			return 0;
		}
		free(save);
		*key = t;
		colon = end;
	} else {
		colon = t;
		for (;;) {
			colon = strchr(colon, ':');
			if (!colon)
				return 0;
			if (colon[1] == ' ' || colon[1] == '\0')
				break;
			colon++;
		}
		if (strchr("&*!|>%@`{[#", t[0]))
			return 0;
		*colon = '\0';
		rtrim(t);
		*key = t;
	}
	*value = colon + 1;
	while (**value == ' ')
		(*value)++;
	*is_map = true;
	return 0;
}

/* A scalar ending its line (p->i already past it): the next line may not be
 * indented deeper, as multi-line scalars are not supported. */
static int parse_line_scalar(struct yparser *p, unsigned lineno, char *s, unsigned indent,
			     cJSON **ret)
{
	int r = parse_scalar(p, lineno, s, ret);

	if (r >= 0 && p->i < p->n && p->lines[p->i].indent > indent) {
		cJSON_Delete(*ret);
		*ret = NULL;
		return yerr(p, p->lines[p->i].lineno, "multi-line scalars are not supported");
	}
	return r;
}

static int parse_block(struct yparser *p, unsigned depth, cJSON **ret);
static int parse_seq(struct yparser *p, unsigned indent, unsigned depth, cJSON **ret);

/* The value of "key:" with nothing after the colon. */
static int parse_nested(struct yparser *p, unsigned indent, unsigned depth, bool in_seq,
			cJSON **ret)
{
	if (p->i < p->n && p->lines[p->i].indent > indent)
		return parse_block(p, depth + 1, ret);
	/* "key:\n- item" at the key's indentation (kubectl's style); in a
	 * sequence "-\n- x" is a null item followed by a sibling. */
	if (!in_seq && p->i < p->n && p->lines[p->i].indent == indent &&
	    is_seq_item(p->lines[p->i].text))
		return parse_seq(p, indent, depth + 1, ret);
	*ret = cJSON_CreateNull();
	return *ret ? 0 : -ENOMEM;
}

static int parse_map(struct yparser *p, unsigned indent, unsigned depth, cJSON **ret)
{
	_cleanup_json_ cJSON *obj = cJSON_CreateObject();
	int r;

	if (!obj)
		return -ENOMEM;
	while (p->i < p->n && p->lines[p->i].indent == indent) {
		struct yline *l = &p->lines[p->i];
		char *key = NULL, *value = NULL;
		cJSON *child = NULL;
		bool is_map;

		if (is_seq_item(l->text))
			return yerr(p, l->lineno, "sequence item where a mapping key was expected");
		r = split_key(p, l->lineno, l->text, &key, &value, &is_map);
		if (r < 0)
			return r;
		if (!is_map)
			return yerr(p, l->lineno, "expected \"key: value\"");
		if (cJSON_GetObjectItemCaseSensitive(obj, key))
			return yerr(p, l->lineno, "duplicate key");
		p->i++;
		if (only_comment(value)) {
			r = parse_nested(p, indent, depth, false, &child);
		} else {
			r = parse_line_scalar(p, l->lineno, value, indent, &child);
		}
		if (r < 0)
			return r;
		if (!cJSON_AddItemToObject(obj, key, child)) {
			cJSON_Delete(child);
			return -ENOMEM;
		}
	}
	if (p->i < p->n && p->lines[p->i].indent > indent)
		return yerr(p, p->lines[p->i].lineno, "unexpected indentation");
	*ret = TAKE_PTR(obj);
	return 0;
}

static int parse_seq(struct yparser *p, unsigned indent, unsigned depth, cJSON **ret)
{
	_cleanup_json_ cJSON *arr = cJSON_CreateArray();
	int r;

	if (!arr)
		return -ENOMEM;
	if (depth > KUBE_YAML_MAX_DEPTH)
		return yerr(p, p->lines[p->i].lineno, "nested too deeply");
	while (p->i < p->n && p->lines[p->i].indent == indent && is_seq_item(p->lines[p->i].text)) {
		struct yline *l = &p->lines[p->i];
		char *rest = l->text + 1;
		cJSON *child = NULL;

		while (*rest == ' ')
			rest++;
		if (only_comment(rest)) {
			p->i++;
			r = parse_nested(p, indent, depth, true, &child);
		} else {
			char *key, *value;
			bool is_map;
			char *copy = strdup(rest);

			if (!copy)
				return -ENOMEM;
			r = split_key(p, l->lineno, copy, &key, &value, &is_map);
			free(copy);
			if (r < 0)
				return r;
			if (is_map || is_seq_item(rest)) {
				/* Re-read this line as a block indented to rest's column. */
				unsigned col = (unsigned)(rest - l->text) + l->indent;
				memmove(l->text, rest, strlen(rest) + 1);
				l->indent = col;
				r = parse_block(p, depth + 1, &child);
			} else {
				p->i++;
				r = parse_line_scalar(p, l->lineno, rest, indent, &child);
			}
		}
		if (r < 0)
			return r;
		cJSON_AddItemToArray(arr, child);
	}
	if (p->i < p->n && p->lines[p->i].indent > indent)
		return yerr(p, p->lines[p->i].lineno, "unexpected indentation");
	*ret = TAKE_PTR(arr);
	return 0;
}

static int parse_block(struct yparser *p, unsigned depth, cJSON **ret)
{
	const struct yline *l = &p->lines[p->i];

	if (depth > KUBE_YAML_MAX_DEPTH)
		return yerr(p, l->lineno, "nested too deeply");
	if (is_seq_item(l->text))
		return parse_seq(p, l->indent, depth, ret);
	return parse_map(p, l->indent, depth, ret);
}

int kube_yaml_parse(const char *text, size_t len, cJSON **ret, struct errmsg *err)
{
	_cleanup_free_ char *copy = NULL;
	_cleanup_free_ struct yline *lines = NULL;
	struct yparser p = {.err = err};
	size_t cap = 0;
	unsigned lineno = 0;
	char *s, *next;
	int r;

	if (len > KUBE_YAML_MAX_SIZE)
		return errmsg_set(err, "file too large (%zu bytes)", len), -EMSGSIZE;
	if (memchr(text, '\0', len))
		return errmsg_set(err, "NUL byte in file"), -EINVAL;
	copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;

	for (s = copy; s; s = next) {
		unsigned indent = 0;

		next = strchr(s, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (lineno > KUBE_YAML_MAX_LINES)
			return errmsg_set(err, "too many lines"), -EMSGSIZE;
		rtrim(s);
		if (s[0] && s[strlen(s) - 1] == '\r')
			s[strlen(s) - 1] = '\0';
		rtrim(s);
		while (s[indent] == ' ')
			indent++;
		if (s[indent] == '\t')
			return errmsg_set(err, "line %u: tab in indentation", lineno), -EINVAL;
		if (s[indent] == '\0' || s[indent] == '#')
			continue;
		if (indent == 0 && strcmp(s, "---") == 0 && p.n == 0)
			continue;
		if (indent == 0 && strcmp(s, "...") == 0)
			break;
		if (indent == 0 && (strncmp(s, "---", 3) == 0 || s[0] == '%'))
			return errmsg_set(
				       err,
				       "line %u: multiple documents or directives are not supported",
				       lineno),
			       -EINVAL;
		if (p.n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct yline *nl = realloc(lines, ncap * sizeof(*nl));
			if (!nl)
				return -ENOMEM;
			lines = nl;
			cap = ncap;
		}
		lines[p.n++] =
			(struct yline){.indent = indent, .lineno = lineno, .text = s + indent};
	}

	p.lines = lines;
	if (p.n == 0)
		return errmsg_set(err, "empty document"), -EINVAL;
	if (p.lines[0].indent != 0)
		return errmsg_set(err, "line %u: unexpected indentation", p.lines[0].lineno),
		       -EINVAL;

	_cleanup_json_ cJSON *root = NULL;
	r = parse_block(&p, 0, &root);
	if (r < 0)
		return r;
	if (p.i < p.n)
		return errmsg_set(err, "line %u: unexpected content", p.lines[p.i].lineno), -EINVAL;
	*ret = TAKE_PTR(root);
	return 0;
}
