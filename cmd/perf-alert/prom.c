/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus exposition (--listen, --push, --textfile): the alerts
 * pending and firing (an ALERTS-like gauge), the transitions, the
 * notifications delivered, failed and lost, what waits in the spool per
 * receiver and for how long, and the input's counts.
 *
 * It is rendered in the record loop from what the program keeps anyway:
 * after a record when PK_OUTLET_GAP has passed (the rest left pending),
 * and while the input is idle when something changed (a transition, a
 * notification, a delivery) or, while notifications wait, once a second
 * so that their age stays current. It sits in front of the rules'
 * on_record, on_idle and on_reload (rules.c), which it calls first. Without an
 * outlet nothing here runs but alert_event's counts.
 *
 * Bounds: alerts are instances of the configured rules (host and
 * component from the records, the rule's own labels from the
 * configuration), capped by pk_prom's series cap with one warning;
 * receivers by MAXRX, states and events by their enums.
 */
#include "perf-alert.h"

#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_opt.h"
#include "pk_prom.h"
#include "pk_time.h"

struct alert_prom {
	struct pk_outlet out;
	struct pk_prom reg;
	struct pk_jw text;		/* the exposition, reused */
	int f_alerts, f_trans, f_esc, f_acks, f_sent, f_failed, f_lost;
	int f_spooled, f_age, f_read, f_bad;
	struct pk_prom_label *lab;	/* the alerts' labels, reused */
	size_t caplab;
	/* The rules' callbacks, called first. */
	void (*on_record)(struct pk_filter *f, const struct pk_rec *r);
	void (*on_idle)(struct pk_filter *f);
	void (*on_reload)(struct pk_filter *f);
	int pending;			/* a change not rendered yet */
	unsigned long long deliveries;	/* delivered + failed at the render */
	int waiting;			/* notifications waited at the render */
};

static const char *const events[NEVENTS] = {
	[EV_PENDING] = "pending", [EV_FIRING] = "firing",
	[EV_RESOLVED] = "resolved", [EV_ESCALATED] = "escalated",
	[EV_ACKNOWLEDGED] = "acknowledged"
};

/* The severities as Prometheus and Alertmanager users write them. */
static const char *const sev_lower[] = { "info", "warning", "critical",
	"emergency" };

/* The gauge's own labels: a rule's label of these names is left out. */
static const char *const own_labels[] = { "alertname", "component", "host",
	"severity", "state", NULL };

void
alert_event(struct alert_ctx *x, const char *event)
{
	int e;

	for (e = 0; e < NEVENTS; e++)
		if (strcmp(events[e], event) == 0) {
			x->events[e]++;
			break;
		}
	if (x->prom != NULL)
		x->prom->pending = 1;
}

/* [a-zA-Z_][a-zA-Z0-9_]*, not __reserved: a Prometheus label name. */
static int
label_name_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0' || (s[0] == '_' && s[1] == '_'))
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' ||
		    (i > 0 && s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

static int
own_label(const char *s)
{
	size_t i;

	for (i = 0; own_labels[i] != NULL; i++)
		if (strcmp(own_labels[i], s) == 0)
			return 1;
	return 0;
}

static int
family(struct alert_prom *p, const char *name, const char *help, int type,
    const char *unit)
{
	int i = pk_prom_family(&p->reg, name, help, type, unit);

	if (i < 0)
		pk_die(PK_EXIT_IO, "cannot register the metric %s", name);
	return i;
}

/* What waits per receiver of the configuration: how many, the oldest. */
struct waiting {
	const struct config *cfg;
	unsigned long n[MAXRX];
	double oldest[MAXRX];
};

static void
count_job(void *arg, const struct pk_alert_job *j)
{
	struct waiting *w = arg;
	size_t i;

	for (i = 0; i < w->cfg->nrx; i++)
		if (strcmp(w->cfg->rx[i].name, j->e.receiver) == 0) {
			if (w->n[i]++ == 0 || j->e.created < w->oldest[i])
				w->oldest[i] = j->e.created;
			return;
		}
	/* A receiver gone with a reload: dropped at its next round. */
}

/* One alert instance's series: 1, labelled as Alertmanager sees it. */
static void
alert_sample(struct alert_prom *p, const struct rule *r,
    const struct inst *in)
{
	const char *sev = json_string_value(json_object_get(r->labels,
	    "severity"));
	size_t n = 0, need = 5 + json_object_size(r->labels);
	const char *k;
	json_t *v;

	if (need > p->caplab) {
		p->caplab = need;
		p->lab = pk_xreallocarray(p->lab, need, sizeof(*p->lab));
	}
	p->lab[n].name = "alertname";
	p->lab[n++].value = r->name;
	if (in->comp[0] != '\0') {
		p->lab[n].name = "component";
		p->lab[n++].value = in->comp;
	}
	p->lab[n].name = "host";
	p->lab[n++].value = in->host;
	p->lab[n].name = "severity";
	p->lab[n++].value = sev != NULL && *sev != '\0' ? sev :
	    sev_lower[in->sev < 0 ? 0 : in->sev > 3 ? 3 : in->sev];
	p->lab[n].name = "state";
	p->lab[n++].value = in->state == ST_FIRING ? "firing" : "pending";
	json_object_foreach(r->labels, k, v) {
		const char *s = json_string_value(v);

		if (s == NULL || *s == '\0' || own_label(k) ||
		    !label_name_ok(k))
			continue;
		p->lab[n].name = k;
		p->lab[n++].value = s;
	}
	pk_prom_sample(&p->reg, p->f_alerts, p->lab, (unsigned)n, 1, 0);
}

static unsigned long long
deliveries(const struct alert_ctx *x)
{
	unsigned long long n = 0;
	size_t k;

	for (k = 0; k < x->d.ncounts; k++)
		n += atomic_load_explicit(&x->d.counts[k].delivered,
		    memory_order_relaxed) +
		    atomic_load_explicit(&x->d.counts[k].failed,
		    memory_order_relaxed);
	return n;
}

static void
render(struct alert_ctx *x)
{
	struct alert_prom *p = x->prom;
	const struct config *c = x->cfg;
	struct pk_prom_label l[1];
	struct waiting w;
	unsigned long lost = 0;
	double now = pk_now();
	size_t i, n;
	int e;

	memset(&w, 0, sizeof(w));
	w.cfg = c;
	if (x->d.s.started) {
		pk_alert_sched_foreach(&x->d.s, count_job, &w);
		pk_alert_sched_lock(&x->d.s);
		lost = x->d.s.dropped + x->d.s.lost;
		pk_alert_sched_unlock(&x->d.s);
	}
	pk_prom_begin(&p->reg);
	/* The few fixed series first: the cap may only cut alerts. */
	pk_prom_sample(&p->reg, p->f_read, NULL, 0, (double)x->f.records, 0);
	pk_prom_sample(&p->reg, p->f_bad, NULL, 0, (double)x->f.bad.count, 0);
	l[0].name = "state";
	for (e = EV_PENDING; e <= EV_RESOLVED; e++) {
		l[0].value = events[e];
		pk_prom_sample(&p->reg, p->f_trans, l, 1, (double)x->events[e],
		    0);
	}
	pk_prom_sample(&p->reg, p->f_esc, NULL, 0,
	    (double)x->events[EV_ESCALATED], 0);
	pk_prom_sample(&p->reg, p->f_acks, NULL, 0,
	    (double)x->events[EV_ACKNOWLEDGED], 0);
	if (c->nrx > 0)
		pk_prom_sample(&p->reg, p->f_lost, NULL, 0, (double)lost, 0);
	l[0].name = "receiver";
	p->waiting = 0;
	for (i = 0; i < c->nrx; i++) {
		const struct rx_count *rc = c->rx[i].count;

		l[0].value = c->rx[i].name;
		if (rc != NULL) {
			pk_prom_sample(&p->reg, p->f_sent, l, 1,
			    (double)atomic_load_explicit(&rc->delivered,
			    memory_order_relaxed), 0);
			pk_prom_sample(&p->reg, p->f_failed, l, 1,
			    (double)atomic_load_explicit(&rc->failed,
			    memory_order_relaxed), 0);
		}
		pk_prom_sample(&p->reg, p->f_spooled, l, 1, (double)w.n[i], 0);
		pk_prom_sample(&p->reg, p->f_age, l, 1, w.n[i] == 0 ? 0 :
		    now > w.oldest[i] ? now - w.oldest[i] : 0, 3);
		if (w.n[i] > 0)
			p->waiting = 1;
	}
	for (i = 0; i < c->nrules; i++)
		for (n = 0; n < c->rules[i].ninst; n++) {
			const struct inst *in = c->rules[i].insts[n];

			if (in->state == ST_PENDING || in->state == ST_FIRING)
				alert_sample(p, &c->rules[i], in);
		}
	pk_jw_reset(&p->text);
	pk_prom_render(&p->reg, &p->text);
	if (p->text.oom || p->reg.oom)
		pk_die(PK_EXIT_IO, "out of memory");
	pk_outlet_publish(&p->out, p->text.buf, p->text.len);
	p->pending = 0;
	p->deliveries = deliveries(x);
}

void
prom_changed(struct alert_ctx *x)
{
	x->prom->pending = 1;
}

/* After the rules had the record: a render when one is due. */
static void
on_record(struct pk_filter *f, const struct pk_rec *r)
{
	struct alert_ctx *x = f->arg;

	x->prom->on_record(f, r);
	x->prom->pending = 1;
	if (pk_outlet_due(&x->prom->out, pk_mono()))
		render(x);
}

static void
on_idle(struct pk_filter *f)
{
	struct alert_ctx *x = f->arg;
	struct alert_prom *p = x->prom;
	double now = pk_mono();

	p->on_idle(f);
	if (!pk_outlet_due(&p->out, now))
		return;
	if (p->pending || deliveries(x) != p->deliveries ||
	    (p->waiting && now - p->out.last_publish >= 1))
		render(x);
}

/* A new configuration: its rules and receivers at the next render. */
static void
on_reload(struct pk_filter *f)
{
	struct alert_ctx *x = f->arg;

	x->prom->on_reload(f);
	x->prom->pending = 1;
}

void
prom_start(struct alert_ctx *x)
{
	struct pk_outlet_opts o = x->o->out;
	struct alert_prom *p;
	char err[512];

	if (o.textfile == NULL && o.listen == NULL && o.push == NULL)
		return;
	p = pk_xcalloc(1, sizeof(*p));
	pk_prom_init(&p->reg, 0);
	p->f_alerts = family(p, "perfkit_alert_alerts",
	    "1 for each alert pending or firing, labelled as Alertmanager "
	    "gets it", PK_PROM_GAUGE, NULL);
	p->f_trans = family(p, "perfkit_alert_transitions_total",
	    "Alerts that became pending, fired or resolved, by state entered",
	    PK_PROM_COUNTER, NULL);
	p->f_esc = family(p, "perfkit_alert_escalations_total",
	    "Severity escalations of firing alerts", PK_PROM_COUNTER, NULL);
	p->f_acks = family(p, "perfkit_alert_acknowledgements_total",
	    "Firing alerts acknowledged", PK_PROM_COUNTER, NULL);
	p->f_sent = family(p, "perfkit_alert_notifications_total",
	    "Notifications delivered, by receiver (one per peer for "
	    "Alertmanager)", PK_PROM_COUNTER, NULL);
	p->f_failed = family(p, "perfkit_alert_notifications_failed_total",
	    "Delivery attempts that failed, by receiver (each retry counts)",
	    PK_PROM_COUNTER, NULL);
	p->f_lost = family(p, "perfkit_alert_notifications_lost_total",
	    "Notifications neither spooled nor delivered: dropped while the "
	    "spool could not be written", PK_PROM_COUNTER, NULL);
	p->f_spooled = family(p, "perfkit_alert_spool_notifications",
	    "Notifications waiting for delivery, by receiver",
	    PK_PROM_GAUGE, NULL);
	p->f_age = family(p, "perfkit_alert_spool_oldest_age_seconds",
	    "Age of the oldest notification waiting for delivery, by "
	    "receiver (0 when none waits)", PK_PROM_GAUGE, "seconds");
	p->f_read = family(p, "perfkit_alert_records_read_total",
	    "Records read and evaluated", PK_PROM_COUNTER,
	    NULL);
	p->f_bad = family(p, "perfkit_alert_bad_lines_total",
	    "Bad input lines reported and skipped", PK_PROM_COUNTER, NULL);
	pk_jw_init(&p->text, 16 * 1024);
	if (pk_outlet_start(&p->out, &o, err, sizeof(err)) == -1)
		pk_die(PK_EXIT_IO, "%s", err);
	x->prom = p;
	p->on_record = x->f.on_record;
	p->on_idle = x->f.on_idle;
	p->on_reload = x->f.on_reload;
	x->f.on_record = on_record;
	x->f.on_idle = on_idle;
	x->f.on_reload = on_reload;
	render(x);
}

void
prom_stop(struct alert_ctx *x)
{
	struct alert_prom *p = x->prom;

	if (p == NULL)
		return;
	render(x);
	pk_outlet_stop(&p->out, 5);
	pk_prom_release(&p->reg);
	pk_jw_release(&p->text);
	free(p->lab);
	x->f.on_record = p->on_record;
	x->f.on_idle = p->on_idle;
	x->f.on_reload = p->on_reload;
	free(p);
	x->prom = NULL;
}
