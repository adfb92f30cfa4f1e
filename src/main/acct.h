/* Accounting records (acct = radius[...]) from main's side: a Start when a tunnel is up,
 * an Interim-Update every stats-report-time, a Stop when it ends, all from the TUN device
 * main holds; sec's accounting helper sends them (src/sec/sec_acct.c). */
#ifndef SLUICE_MAIN_ACCT_H
#define SLUICE_MAIN_ACCT_H

#include "main/events.h"
#include "main/main.h"

struct MsAcctFlushed;

/* Before a worker can be handed a tunnel: its interim timer. */
void main_acct_init(struct main_worker *w);
/* The event sink: Start and Stop records, and the interim timer in between. */
void main_acct_on_event(struct main_ctx *m, const struct main_event *ev);
/* sluiced stops, every tunnel has ended: waits (at most MAIN_ACCT_FLUSH_S) until sec
 * has sent every record, and logs what was lost. */
#define MAIN_ACCT_FLUSH_S 30
void main_acct_flush(struct main_ctx *m);
/* sec's answer to the flush. */
void main_acct_on_flushed(struct main_ctx *m, const struct MsAcctFlushed *f);

#endif
