/* SPDX-License-Identifier: MIT */
#ifndef PK_ALERT_SEND_H
#define PK_ALERT_SEND_H

#include <stdatomic.h>
#include <stddef.h>

#include <jansson.h>

/*
 * The transports of perf-alert's notifications: an HTTP POST (webhooks,
 * Alertmanager), a message over SMTP, a command. Each is one blocking
 * attempt meant for a delivery thread: 0 when the receiver accepted it,
 * -1 with the reason in err. Each gives up at once when *stop becomes
 * non-zero (the program is exiting). libcurl must have been initialised
 * (curl_global_init) by the program; no signal is used (CURLOPT_NOSIGNAL).
 */

/* POST a JSON body; accepted on a 2xx status. key, if not NULL, is sent
 * as the Idempotency-Key header. */
int pk_alert_http_post(const char *url, const char *body, const char *key,
    double timeout, atomic_int *stop, char *err, size_t errsize);
/*
 * The same; on a failure *cls (if not NULL) is its class: 0 (it may pass:
 * no answer, 408, 429), PK_ALERT_REFUSED_STATUS (another 4xx: this
 * notification is refused) or PK_ALERT_SERVER_STATUS (a 5xx).
 */
int pk_alert_http_post_class(const char *url, const char *body,
    const char *key, double timeout, atomic_int *stop, char *err,
    size_t errsize, int *cls);
/* The class of an HTTP status, as above (the values of pk_alert_sched). */
int pk_alert_failure_class(long status);
#define PK_ALERT_REFUSED_STATUS	1
#define PK_ALERT_SERVER_STATUS	2

struct pk_alert_http {
	const char *url;
	const char *body;
	size_t len;
	const char *content_type;	/* "application/json" */
	const char *const *headers;	/* "Name: value", NULL-ended, or NULL */
	double timeout;
};

/*
 * POST h->body with h's headers; accepted on a 2xx status. *status is
 * the server's answer (0 when there was none). A header with a CR or LF
 * in it is refused before anything is sent (-1, *status 0): header
 * values must be made single-line by the caller.
 */
int pk_alert_http_request(const struct pk_alert_http *h, atomic_int *stop,
    long *status, char *err, size_t errsize);

struct pk_alert_smtp {
	const char *url;	/* smtp://host:port or smtps://host:port */
	const char *from;
	char *const *to;
	size_t nto;
	const char *user;	/* NULL: no AUTH */
	const char *password;
	const char *ca_file;	/* NULL: the system's certificates */
	int starttls;		/* require STARTTLS */
	double timeout;
};

/*
 * Send msg (headers, blank line, body; CRLF line ends). Accepted only when
 * the server's final reply to the message is 250: a 451 is a failure
 * that may pass, a 5xx one that will not (*cls, if not NULL, set to
 * PK_ALERT_REFUSED_STATUS).
 */
int pk_alert_smtp_send(const struct pk_alert_smtp *s, const char *msg,
    size_t len, atomic_int *stop, char *err, size_t errsize, int *cls);

/*
 * Run "/bin/sh -c cmd" with input on its standard input; accepted when
 * it exits with status 0. Killed after timeout seconds. Its environment
 * is env (NAME=value strings, NULL-terminated) and PATH, nothing else of
 * ours: a secret in our environment (an SMTP password, a token) never
 * reaches it.
 */
int pk_alert_command(const char *cmd, char *const *env, const char *input,
    size_t len, double timeout, atomic_int *stop, char *err, size_t errsize);

/* "2024-11-22T18:26:40.125Z" */
void pk_alert_rfc3339(double t, char *buf, size_t size);

/*
 * The Alertmanager API v2 form of an alert record: labels (the record's,
 * with severity added unless the rule set a severity label of its own:
 * the record's severity in lower case, the Prometheus community's, or in
 * upper case with severity_upper), annotations, startsAt (since), endsAt
 * (the record's ts when resolved, else until), and generatorURL when
 * generator_url is neither NULL nor "" (the field is left out otherwise).
 */
struct pk_alert_am_form {
	int severity_upper;
	const char *generator_url;	/* expanded and encoded already */
};

json_t *pk_alert_am(const json_t *rec, double until,
    const struct pk_alert_am_form *f);

#endif
