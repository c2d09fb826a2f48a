/* SPDX-License-Identifier: MIT */
/* Fuzz the YAML config loader: parse, check keys, read typed values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_file.h"
#include "pk_yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
walk(struct pk_ydoc *doc, const struct pk_ynode *n, int depth)
{
	static const char *const allowed[] = { "rules", "name", "expr", "for",
	    "severity", "labels", NULL };
	const char *s;
	double d;
	long long i;
	int b;
	size_t k;

	if (n == NULL || depth > 100)
		return;
	switch (n->type) {
	case PK_YSCALAR:
		(void)pk_ynode_str(doc, n, &s);
		(void)pk_ynode_double(doc, n, -1e9, 1e9, &d);
		(void)pk_ynode_int(doc, n, -1000, 1000, &i);
		(void)pk_ynode_bool(doc, n, &b);
		(void)pk_ynode_duration(doc, n, 0, 1e6, &d);
		break;
	case PK_YMAP:
		(void)pk_ymap_check(doc, n, "a map", allowed);
		(void)pk_ymap_get(n, "rules");
		/* FALLTHROUGH */
	case PK_YSEQ:
		for (k = 0; k < n->n; k++)
			walk(doc, n->items[k], depth + 1);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pk_ydoc *doc;
	json_t *j;

	if (fuzz_quiet() == -1)
		return 0;
	doc = pk_yaml_load_string("fuzz.yaml", (const char *)data, size);
	if (doc == NULL)
		return 0;
	walk(doc, doc->root, 0);
	j = pk_ynode_to_json(doc->root);
	json_decref(j);
	pk_yaml_free(doc);
	return 0;
}
