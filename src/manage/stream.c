/* The event streams of the management API: one thread follows main's CTL_SHOW_EVENTS
 * on fd 4 and keeps the last STREAM_RING events; every reader (a GET /api/events
 * connection) has its own position in them and waits on one condition variable. A
 * reader that falls more than STREAM_RING events behind is told how many it lost. */
#include "config.h"

#include "manage/manage.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "ctl/exchange.h"
#include "ctl/json.h"

#define STREAM_RING     256
#define STREAM_READERS  8
#define STREAM_WAIT_SECS 5 /* a comment line at least this often keeps proxies and the
			    * connection timeout from cutting an idle stream */

struct stream_reader {
	uint64_t next; /* sequence number of the next event to send */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static char *ring[STREAM_RING]; /* "event: ...\ndata: ...\n\n" */
static uint64_t seq;            /* events received so far */
static unsigned readers;
static bool over;
static struct ipc_channel ch;

static void on_event(const CtlEvent *e, void *data)
{
	json_t *v = ctl_event_json(e);
	char *js = v ? json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	char *text = NULL;

	if (js && asprintf(&text, "event: %s\ndata: %s\n\n", e->connect ? "connect" : "disconnect",
			   js) < 0)
		text = NULL;
	free(js);
	json_decref(v);
	pthread_mutex_lock(&lock);
	free(ring[seq % STREAM_RING]);
	ring[seq % STREAM_RING] = text ? text : strdup(": an event could not be encoded\n\n");
	seq++;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
}

static void *follow(void *arg)
{
	CtlEmpty req = CTL_EMPTY__INIT;
	struct ctl_reply r = {.on_event = on_event};
	enum ctl_exchange_result x = ctl_exchange(&ch, CTL_TYPE__CTL_SHOW_EVENTS, &req.base, &r, -1,
						  NULL);

	/* main never ends a stream: it stopped, or broke the contract. */
	log_err("sluiced's event stream ended (%s); exiting",
		x == CTLX_CLOSED ? "connection closed" : ipc_last_error());
	exit(1);
	return NULL;
}

int stream_start(int fd)
{
	pthread_t t;

	ctl_channel_init(&ch, fd, "sluiced");
	if (pthread_create(&t, NULL, follow, NULL) != 0)
		return -EAGAIN;
	pthread_detach(t);
	return 0;
}

struct stream_reader *stream_reader_new(void)
{
	struct stream_reader *r = NULL;

	pthread_mutex_lock(&lock);
	if (!over && readers < STREAM_READERS && (r = calloc(1, sizeof(*r)))) {
		readers++;
		r->next = seq;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

void stream_reader_free(struct stream_reader *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&lock);
	readers--;
	pthread_mutex_unlock(&lock);
	free(r);
}

void stream_stop(void)
{
	pthread_mutex_lock(&lock);
	over = true;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
}

long stream_read(struct stream_reader *r, char *buf, size_t max)
{
	struct timespec until;
	size_t used = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STREAM_WAIT_SECS;
	pthread_mutex_lock(&lock);
	while (!over && r->next == seq &&
	       pthread_cond_timedwait(&changed, &lock, &until) != ETIMEDOUT)
		;
	if (over) {
		pthread_mutex_unlock(&lock);
		return -1;
	}
	if (seq - r->next > STREAM_RING) {
		used = (size_t)snprintf(buf, max, ": %llu events lost\n\n",
					(unsigned long long)(seq - STREAM_RING - r->next));
		r->next = seq - STREAM_RING;
	}
	while (r->next < seq) {
		const char *e = ring[r->next % STREAM_RING];
		size_t n = strlen(e);

		if (used + n > max && used == 0) {
			r->next++; /* larger than any buffer: it cannot be sent */
			continue;
		}
		if (used + n > max)
			break; /* the rest on the next call */
		memcpy(buf + used, e, n);
		used += n;
		r->next++;
	}
	if (used == 0)
		used = (size_t)snprintf(buf, max, ":\n\n");
	pthread_mutex_unlock(&lock);
	return (long)used;
}
