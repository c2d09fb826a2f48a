/* SPDX-License-Identifier: MIT */
/*
 * Fuzz perf-alert's state.json restore (state_apply, cmd/perf-alert/
 * state.c): whatever the file holds, it is restored within the ranges
 * perf-alert writes or refused whole as corrupt, never undefined
 * behaviour (run under UBSan by make check SANITIZE=1). Each restored
 * alert's record is built, as the restart would for Alertmanager.
 */
/* FUZZ_PROG: perf-alert */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"
#include "perf-alert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf[] =
    "rules:\n"
    "  - {name: hot, when: cpu.util > 90, flap: true,\n"
    "     escalate: {after: 1m, max: EMERGENCY}}\n"
    "  - {name: gone, absent: 30s}\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config *c;
	struct alert_ctx x;
	json_t *o;
	char why[256];
	size_t i, n;

	if (fuzz_quiet() == -1)
		return 0;
	if (c == NULL) {
		const char *path = fuzz_file((const uint8_t *)conf,
		    sizeof(conf) - 1);

		if (path == NULL || (c = config_load(path)) == NULL)
			abort();
	}
	if ((o = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return 0;
	memset(&x, 0, sizeof(x));
	x.cfg = c;
	x.last_ts = -HUGE_VAL;
	if (state_apply(&x, o, why, sizeof(why)) == -1 && why[0] == '\0')
		abort();
	for (i = 0; i < c->nrules; i++) {
		struct rule *r = &c->rules[i];

		for (n = 0; n < r->ninst; n++) {
			struct inst *in = r->insts[n];
			json_t *rec;

			if (in->sev < 0 || in->sev > 3 || in->esc < 0 ||
			    in->flap.n < 0 || in->flap.n > PK_ALERT_FLAP_N)
				abort();
			rec = alert_record(r, in, "firing", in->since);
			json_decref(rec);
		}
		rule_insts_release(r);
	}
	json_decref(o);
	return 0;
}
