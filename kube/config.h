/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How to reach the API server: URL, TLS trust, client credentials.
 * Three sources, as upstream (flannel-behaviour §3.1):
 *   --kubeconfig-file   current-context -> context -> cluster + user
 *   --kube-api-url      overrides the server (alone: in-cluster credentials
 *                       are used when present)
 *   neither             in-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT,
 *                       the service-account token and CA in the SA directory
 *                       ($FLANNEL_SA_DIR, default /var/run/secrets/kubernetes.io/serviceaccount).
 * The token itself is never stored here for the SA case: only its file, which
 * is re-read (kube/token.h). Errors never contain a token.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/core/errmsg.h"

#define KUBE_SA_DIR_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_KUBECONFIG_MAX (1024 * 1024)

struct kube_config {
	char *server; /* "https://host:port" (no trailing '/') */
	char *ca_file;
	char *ca_data; /* PEM, decoded from certificate-authority-data */
	size_t ca_data_len;
	bool insecure_skip_tls_verify;
	char *token;	  /* a static token from the kubeconfig; secret */
	char *token_file; /* re-read at least every 60 s */
	char *cert_file, *key_file;
	char *cert_data, *key_data; /* PEM; key_data is secret */
	size_t cert_data_len, key_data_len;
};

void kube_config_done(struct kube_config *c);

/*
 * Parse a kubeconfig (YAML subset or JSON). dir resolves relative paths
 * (the kubeconfig file's directory). Pure. -EINVAL with err naming the field.
 */
int kube_config_from_kubeconfig(const char *text, size_t len, const char *dir,
				struct kube_config *ret, struct errmsg *err);
/* In-cluster settings from the given environment values (pure; host/port may be NULL). */
int kube_config_in_cluster(const char *host, const char *port, const char *sa_dir,
			   struct kube_config *ret, struct errmsg *err);
/*
 * The daemon's entry point: kubeconfig_path and api_url as given on the
 * command line (NULL or "" when not given); reads the kubeconfig file and the
 * environment. Logs the client-go in-cluster warning when neither is given.
 */
int kube_config_load(const char *kubeconfig_path, const char *api_url, struct kube_config *ret,
		     struct errmsg *err);
