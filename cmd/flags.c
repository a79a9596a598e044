/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flanneld's flags, table-driven: one row per upstream flag with its name,
 * type, default (as text, fed through the same setter as user values, so a
 * default can never disagree with the parser), the field name upstream
 * prints in its "CLI flags config" line, and the usage text.
 *
 * The syntax is Go's flag package: one or two dashes, "=value" or the next
 * argument as value, bool flags only with "=value", ints in Go's
 * strconv.ParseInt(s, 0, 64) syntax (0x, 0o, 0b, leading-0 octal,
 * underscores between digits). The FLANNELD_* environment follows
 * coreos/pkg/flagutil.SetFlagsFromEnv.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "flags.h"
#include "lib/core/log.h"
#include "lib/core/quote.h"

enum flag_type {
	FLAG_STRING,
	FLAG_BOOL,
	FLAG_INT,   /* Go int: int64 */
	FLAG_LEVEL, /* klog.Level: base-10 int32 */
	FLAG_LIST,  /* repeatable string */
};

struct flag_def {
	const char *name;
	enum flag_type type;
	size_t offset;
	const char *def;     /* default as text; NULL for lists */
	const char *go_name; /* field in upstream's CmdLineOpts; NULL: not in the config line */
	const char *usage;
};

#define F(field) offsetof(struct flannel_flags, field)

/* Upstream's order of CmdLineOpts, so flags_format() prints the fields as it does. */
static const struct flag_def flag_table[] = {
	{"etcd-endpoints", FLAG_STRING, F(etcd_endpoints),
	 "http://127.0.0.1:4001,http://127.0.0.1:2379", "etcdEndpoints",
	 "a comma-delimited list of etcd endpoints"},
	{"etcd-prefix", FLAG_STRING, F(etcd_prefix), "/coreos.com/network", "etcdPrefix",
	 "etcd prefix"},
	{"etcd-keyfile", FLAG_STRING, F(etcd_keyfile), "", "etcdKeyfile",
	 "SSL key file used to secure etcd communication"},
	{"etcd-certfile", FLAG_STRING, F(etcd_certfile), "", "etcdCertfile",
	 "SSL certification file used to secure etcd communication"},
	{"etcd-cafile", FLAG_STRING, F(etcd_cafile), "", "etcdCAFile",
	 "SSL Certificate Authority file used to secure etcd communication"},
	{"etcd-username", FLAG_STRING, F(etcd_username), "", "etcdUsername",
	 "username for BasicAuth to etcd"},
	{"etcd-password", FLAG_STRING, F(etcd_password), "", "etcdPassword",
	 "password for BasicAuth to etcd"},
	{"version", FLAG_BOOL, F(version), "false", "version", "print version and exit"},
	{"kube-subnet-mgr", FLAG_BOOL, F(kube_subnet_mgr), "false", "kubeSubnetMgr",
	 "contact the Kubernetes API for subnet assignment instead of etcd."},
	{"kube-api-url", FLAG_STRING, F(kube_api_url), "", "kubeApiUrl",
	 "Kubernetes API server URL. Does not need to be specified if flannel is running in a "
	 "pod."},
	{"kube-annotation-prefix", FLAG_STRING, F(kube_annotation_prefix),
	 "flannel.alpha.coreos.com", "kubeAnnotationPrefix",
	 "Kubernetes annotation prefix. Can contain single slash \"/\", otherwise it will be "
	 "appended at the end."},
	{"kubeconfig-file", FLAG_STRING, F(kubeconfig_file), "", "kubeConfigFile",
	 "kubeconfig file location. Does not need to be specified if flannel is running in a pod."},
	{"iface", FLAG_LIST, F(iface), NULL, "iface",
	 "interface to use (IP or name) for inter-host communication. Can be specified multiple "
	 "times to check each option in order. Returns the first match found."},
	{"iface-regex", FLAG_LIST, F(iface_regex), NULL, "ifaceRegex",
	 "regex expression to match the first interface to use (IP or name) for inter-host "
	 "communication. Can be specified multiple times to check each regex in order. Returns "
	 "the first match found. Regexes are checked after specific interfaces specified by the "
	 "iface option have already been checked."},
	{"ip-masq", FLAG_BOOL, F(ip_masq), "false", "ipMasq",
	 "setup IP masquerade rule for traffic destined outside of overlay network"},
	{"ip-masq-fully-random-disable", FLAG_BOOL, F(ip_masq_fully_random_disable), "false",
	 "ipMasqRandomFullyDisable", "disable fully-random mode for MASQUERADE"},
	{"iface-can-reach", FLAG_STRING, F(iface_can_reach), "", "ifaceCanReach",
	 "detect interface to use (IP or name) for inter-host communication based on which will "
	 "be used for provided IP. This is exactly the interface to use of command 'ip route get "
	 "<ip-address>'"},
	{"subnet-file", FLAG_STRING, F(subnet_file), "/run/flannel/subnet.env", "subnetFile",
	 "filename where env variables (subnet, MTU, ... ) will be written to"},
	{"public-ip", FLAG_STRING, F(public_ip), "", "publicIP",
	 "IP accessible by other nodes for inter-host communication"},
	{"public-ipv6", FLAG_STRING, F(public_ipv6), "", "publicIPv6",
	 "IPv6 accessible by other nodes for inter-host communication"},
	{"subnet-lease-renew-margin", FLAG_INT, F(subnet_lease_renew_margin), "60",
	 "subnetLeaseRenewMargin",
	 "subnet lease renewal margin, in minutes, ranging from 1 to 1439"},
	{"healthz-ip", FLAG_STRING, F(healthz_ip), "0.0.0.0", "healthzIP",
	 "the IP address for healthz server to listen"},
	{"healthz-port", FLAG_INT, F(healthz_port), "0", "healthzPort",
	 "the port for healthz server to listen(0 to disable)"},
	{"iptables-resync", FLAG_INT, F(iptables_resync), "5", "iptablesResyncSeconds",
	 "resync period for iptables rules, in seconds"},
	{"iptables-forward-rules", FLAG_BOOL, F(iptables_forward_rules), "true",
	 "iptablesForwardRules", "add default accept rules to FORWARD chain in iptables"},
	{"ip-blackhole-route", FLAG_BOOL, F(ip_blackhole_route), "false", "blackholeRoute",
	 "add blackhole route on the node for the local podCIDR"},
	{"net-config-path", FLAG_STRING, F(net_config_path), "/etc/kube-flannel/net-conf.json",
	 "netConfPath", "path to the network configuration file"},
	{"set-node-network-unavailable", FLAG_BOOL, F(set_node_network_unavailable), "true",
	 "setNodeNetworkUnavailable", "set NodeNetworkUnavailable after ready"},
	/* ours, not upstream's: not in upstream's config dump */
	{"network-policy", FLAG_BOOL, F(network_policy), "false", NULL,
	 "enforce Kubernetes NetworkPolicies in the kernel (nftables table inet flannel-netpol; "
	 "kube subnet manager only)"},
	{"v", FLAG_LEVEL, F(v), "0", NULL, "number for the log level verbosity"},
	{"vmodule", FLAG_STRING, F(vmodule), "", NULL,
	 "comma-separated list of pattern=N settings for file-filtered logging"},
	{"log_backtrace_at", FLAG_STRING, F(log_backtrace_at), "", NULL,
	 "when logging hits line file:N, emit a stack trace"},
};

#undef F

_Static_assert(sizeof(flag_table) / sizeof(flag_table[0]) <= 64, "set masks are 64 bits");

static void *field(struct flannel_flags *f, const struct flag_def *d)
{
	return (char *)f + d->offset;
}

static const void *cfield(const struct flannel_flags *f, const struct flag_def *d)
{
	return (const char *)f + d->offset;
}

static const struct flag_def *flag_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(flag_table); i++)
		if (strlen(flag_table[i].name) == len && memcmp(flag_table[i].name, name, len) == 0)
			return &flag_table[i];
	return NULL;
}

static uint64_t flag_bit(const struct flag_def *d)
{
	return UINT64_C(1) << (d - flag_table);
}

/* Go's strconv.ParseBool. */
static int parse_bool(const char *s, bool *ret)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (strcmp(s, t[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcmp(s, f[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	return 99;
}

/*
 * Go's strconv.ParseInt(s, base, bits) for base 0 (prefixes, underscores
 * between digits) and base 10. -EINVAL: syntax; -ERANGE: out of range.
 */
static int parse_int(const char *s, int base, unsigned bits, int64_t *ret)
{
	const uint64_t limit = UINT64_C(1) << (bits - 1); /* |min|; max is limit - 1 */
	bool neg = false, base0 = base == 0, any = false;
	char last = 0; /* '0': digit or prefix just seen, '_': underscore */
	uint64_t v = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (base == 0) {
		base = 10;
		if (s[0] == '0') {
			char c = (char)tolower((unsigned char)s[1]);

			if (c == 'x' || c == 'o' || c == 'b') {
				base = c == 'x' ? 16 : c == 'o' ? 8 : 2;
				s += 2;
			} else {
				base = 8;
				s += 1;
				any = true; /* the 0 itself is a digit */
			}
			last = '0';
		}
	} else if (base != 10) {
		return -EINVAL;
	}

	for (; *s; s++) {
		int d;

		if (*s == '_') {
			/* Only between digits, or after a base prefix, and only with base 0. */
			if (!base0 || last != '0')
				return -EINVAL;
			last = '_';
			continue;
		}
		d = digit_value(*s);
		if (d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			v = UINT64_MAX; /* saturate: reported as a range error below */
		else
			v = v * (uint64_t)base + (uint64_t)d;
		any = true;
		last = '0';
	}
	if (!any || last == '_')
		return -EINVAL;
	if (neg ? v > limit : v >= limit)
		return -ERANGE;
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static const char *set_reason(int r)
{
	switch (r) {
	case -ERANGE:
		return "value out of range";
	case -E2BIG:
		return "too many values";
	default:
		return "parse error";
	}
}

static void set_error(struct errmsg *err, const struct flag_def *d, const char *value, int r)
{
	char q[QUOTE_BUF_SIZE];

	quote_str(value, q, sizeof(q));
	if (d->type == FLAG_BOOL)
		errmsg_set(err, "invalid boolean value %s for -%s: %s", q, d->name, set_reason(r));
	else
		errmsg_set(err, "invalid value %s for flag -%s: %s", q, d->name, set_reason(r));
}

/* Go's flag.Value.Set for each type. Values are borrowed, not copied. */
static int flag_set(struct flannel_flags *f, const struct flag_def *d, const char *value)
{
	int64_t i;
	int r;

	switch (d->type) {
	case FLAG_STRING:
		*(const char **)field(f, d) = value;
		return 0;
	case FLAG_BOOL:
		return parse_bool(value, field(f, d));
	case FLAG_INT:
		r = parse_int(value, 0, 64, &i);
		if (r < 0)
			return r;
		*(int64_t *)field(f, d) = i;
		return 0;
	case FLAG_LEVEL:
		r = parse_int(value, 10, 32, &i);
		if (r < 0)
			return r;
		*(int32_t *)field(f, d) = (int32_t)i;
		return 0;
	case FLAG_LIST: {
		struct flag_list *l = field(f, d);

		if (l->n >= FLAGS_LIST_MAX)
			return -E2BIG;
		l->v[l->n++] = value;
		return 0;
	}
	}
	return -EINVAL;
}

static int set_defaults(struct flannel_flags *f)
{
	*f = (struct flannel_flags){0};
	for (size_t i = 0; i < ARRAY_SIZE(flag_table); i++) {
		const struct flag_def *d = &flag_table[i];

		if (d->def && flag_set(f, d, d->def) < 0)
			return -EINVAL;
	}
	return 0;
}

/* "FLANNELD_" + name upper-cased, '-' and '.' turned into '_'. */
static void env_name(const struct flag_def *d, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "FLANNELD_%s", d->name);

	for (size_t i = strlen("FLANNELD_"); i < n && i < size; i++)
		buf[i] =
			buf[i] == '-' || buf[i] == '.' ? '_' : (char)toupper((unsigned char)buf[i]);
}

static const char *env_lookup(char **envp, const char *key)
{
	size_t len = strlen(key);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, key, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	return NULL;
}

static void apply_env(struct flannel_flags *f, char **envp)
{
	for (size_t i = 0; i < ARRAY_SIZE(flag_table); i++) {
		const struct flag_def *d = &flag_table[i];
		char key[64], q[QUOTE_BUF_SIZE];
		const char *value;
		int r;

		/* --version is acted on before the environment is read, as upstream. */
		if (strcmp(d->name, "version") == 0 || (f->set_cli & flag_bit(d)))
			continue;
		env_name(d, key, sizeof(key));
		value = env_lookup(envp, key);
		if (!value || !*value)
			continue;
		r = flag_set(f, d, value);
		if (r < 0) {
			f->has_env_error = true;
			errmsg_set(&f->env_error, "invalid value %s for %s: %s",
				   quote_str(value, q, sizeof(q)), key, set_reason(r));
			continue;
		}
		f->set_env |= flag_bit(d);
	}
}

static int unexpected_argument(const char *arg, struct errmsg *err)
{
	char q[QUOTE_BUF_SIZE];

	errmsg_set(err, "unexpected argument %s", quote_str(arg, q, sizeof(q)));
	return -EINVAL;
}

int flags_parse(int argc, char **argv, char **envp, struct flannel_flags *ret, struct errmsg *err)
{
	struct flannel_flags f;
	int r;

	r = set_defaults(&f);
	if (r < 0) {
		errmsg_set(err, "internal error: a default value does not parse");
		return r;
	}

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *eq, *value = NULL;
		const struct flag_def *d;
		size_t len;

		if (arg[0] != '-' || arg[1] == '\0')
			return unexpected_argument(arg, err);
		name = arg + 1;
		if (name[0] == '-') {
			name++;
			if (name[0] == '\0') { /* "--" ends the flags */
				if (i + 1 < argc)
					return unexpected_argument(argv[i + 1], err);
				break;
			}
		}
		if (name[0] == '-' || name[0] == '=') {
			errmsg_set(err, "bad flag syntax: %s", arg);
			return -EINVAL;
		}
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		if (eq)
			value = eq + 1;

		d = flag_lookup(name, len);
		if (!d) {
			if ((len == 1 && name[0] == 'h') ||
			    (len == 4 && memcmp(name, "help", 4) == 0))
				return FLAGS_HELP;
			errmsg_set(err, "flag provided but not defined: -%.*s", (int)MIN(len, 100),
				   name);
			return -EINVAL;
		}
		if (!value) {
			if (d->type == FLAG_BOOL) {
				value = "true";
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				errmsg_set(err, "flag needs an argument: -%s", d->name);
				return -EINVAL;
			}
		}
		r = flag_set(&f, d, value);
		if (r < 0) {
			set_error(err, d, value, r);
			return -EINVAL;
		}
		f.set_cli |= flag_bit(d);
	}

	if (f.version) {
		*ret = f;
		return FLAGS_VERSION;
	}
	apply_env(&f, envp);
	*ret = f;
	return FLAGS_RUN;
}

static const char *type_word(const struct flag_def *d)
{
	switch (d->type) {
	case FLAG_STRING:
		return " string";
	case FLAG_INT:
		return " int";
	case FLAG_LEVEL:
	case FLAG_LIST:
		return " value";
	case FLAG_BOOL:
		break;
	}
	return "";
}

void flags_usage(FILE *f)
{
	fprintf(f, "Usage: flanneld [OPTION]...\n");
	for (size_t i = 0; i < ARRAY_SIZE(flag_table); i++) {
		const struct flag_def *d = &flag_table[i];

		if (d->type == FLAG_STRING)
			fprintf(f, "  --%s%s\t%s (default \"%s\")\n", d->name, type_word(d),
				d->usage, d->def);
		else if (d->type == FLAG_LIST)
			fprintf(f, "  --%s%s\t%s (default none, repeatable)\n", d->name,
				type_word(d), d->usage);
		else
			fprintf(f, "  --%s%s\t%s (default %s)\n", d->name, type_word(d), d->usage,
				d->def);
	}
}

static int format_value(const struct flannel_flags *f, const struct flag_def *d, struct buf *out)
{
	const void *p = cfield(f, d);
	int r = 0;

	switch (d->type) {
	case FLAG_STRING: {
		const char *s = *(const char *const *)p;

		if (d->offset == offsetof(struct flannel_flags, etcd_password) && s && *s)
			return buf_puts(out, "********");
		return buf_puts(out, s ? s : "");
	}
	case FLAG_BOOL:
		return buf_puts(out, *(const bool *)p ? "true" : "false");
	case FLAG_INT:
		return buf_printf(out, "%" PRId64, *(const int64_t *)p);
	case FLAG_LEVEL:
		return buf_printf(out, "%" PRId32, *(const int32_t *)p);
	case FLAG_LIST: {
		const struct flag_list *l = p;

		r = buf_puts(out, "[");
		for (unsigned i = 0; i < l->n && r >= 0; i++)
			r = buf_printf(out, "%s%s", i ? " " : "", l->v[i]);
		return r < 0 ? r : buf_puts(out, "]");
	}
	}
	return -EINVAL;
}

int flags_format(const struct flannel_flags *f, struct buf *out)
{
	bool first = true;
	int r;

	r = buf_puts(out, "{");
	for (size_t i = 0; i < ARRAY_SIZE(flag_table) && r >= 0; i++) {
		const struct flag_def *d = &flag_table[i];

		if (!d->go_name)
			continue;
		r = buf_printf(out, "%s%s:", first ? "" : " ", d->go_name);
		if (r >= 0)
			r = format_value(f, d, out);
		first = false;
	}
	if (r >= 0)
		r = buf_puts(out, "}");
	return r < 0 ? r : 0;
}

void flags_log(const struct flannel_flags *f)
{
	_cleanup_buf_ struct buf b = BUF_INIT;

	if (f->has_env_error)
		log_warn("Failed to set flag FLANNELD from env: %s", f->env_error.text);
	if (flags_format(f, &b) < 0) {
		log_error("Failed to format the CLI flags config: out of memory");
		return;
	}
	log_info("CLI flags config: %s", b.data);
}

bool flags_is_set(const struct flannel_flags *f, const char *name)
{
	const struct flag_def *d = name ? flag_lookup(name, strlen(name)) : NULL;

	return d && ((f->set_cli | f->set_env) & flag_bit(d));
}

/* Whether the flag's value differs from its default. */
static bool differs_from_default(const struct flannel_flags *f, const struct flag_def *d)
{
	struct flannel_flags def;

	if (d->type == FLAG_LIST)
		return ((const struct flag_list *)cfield(f, d))->n > 0;
	if (set_defaults(&def) < 0)
		return true;
	switch (d->type) {
	case FLAG_STRING:
		return strcmp(*(const char *const *)cfield(f, d),
			      *(const char *const *)cfield(&def, d));
	case FLAG_BOOL:
		return *(const bool *)cfield(f, d) != *(const bool *)cfield(&def, d);
	case FLAG_INT:
		return *(const int64_t *)cfield(f, d) != *(const int64_t *)cfield(&def, d);
	case FLAG_LEVEL:
		return *(const int32_t *)cfield(f, d) != *(const int32_t *)cfield(&def, d);
	case FLAG_LIST:
		break;
	}
	return true;
}

int flags_check_supported(const struct flannel_flags *f, const char *const *unsupported,
			  struct errmsg *err)
{
	for (; unsupported && *unsupported; unsupported++) {
		const struct flag_def *d = flag_lookup(*unsupported, strlen(*unsupported));

		if (!d) {
			errmsg_set(err, "flanneld: unknown flag name %s in the unsupported list",
				   *unsupported);
			return -EINVAL;
		}
		if (((f->set_cli | f->set_env) & flag_bit(d)) && differs_from_default(f, d)) {
			errmsg_set(err, "flanneld: --%s is not supported yet", d->name);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}
