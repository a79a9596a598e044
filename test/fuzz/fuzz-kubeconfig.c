/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for kube/config.c and kube/yaml.c: a kubeconfig (YAML subset
 * or JSON). An accepted one has an http(s) server without a trailing '/',
 * and a client certificate only together with its key. Also runs the YAML
 * parser alone. Aborts on violation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/config.h"
#include "kube/yaml.h"
#include "lib/json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_config c = {};
	struct errmsg err = {};
	cJSON *root = NULL;

	if (kube_yaml_parse((const char *)data, size, &root, &err) >= 0) {
		char *text = json_print(root);
		free(text);
		cJSON_Delete(root);
	}
	if (kube_config_from_kubeconfig((const char *)data, size, "/etc/kubernetes", &c, &err) < 0)
		return 0;
	if (!c.server ||
	    (strncmp(c.server, "http://", 7) != 0 && strncmp(c.server, "https://", 8) != 0))
		abort();
	if (!!(c.cert_data || c.cert_file) != !!(c.key_data || c.key_file))
		abort();
	kube_config_done(&c);
	return 0;
}
