/* The Prometheus endpoint (metrics-listen): libmicrohttpd in its external epoll mode,
 * driven by main's libev loop. One thread, so the counters need no lock and the page is
 * built from main's own state; MHD's sockets are non-blocking, so a slow scraper never
 * stalls the loop. */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

struct main_ctx;
struct main_event;

/* Listens on metrics-listen. 0 or -errno (logged). */
int metrics_start(struct main_ctx *m);
void metrics_stop(struct main_ctx *m);
/* events.c sink: counts auths, sessions, worker exits and set-up times. */
void metrics_on_event(struct main_ctx *m, const struct main_event *ev);

#endif
