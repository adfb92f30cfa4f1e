/* Deadlines for the management API's connections. libmicrohttpd cuts a connection off
 * after HTTP_IDLE_SECS without progress, but a client that sends one byte every few
 * seconds makes progress forever, and HTTP_CONNECTIONS such clients would shut the API
 * for everyone. Here each connection must complete its TLS handshake and each request
 * (headers and body) within WATCH_REQUEST_SECS of the connection's start or of its
 * previous answer; a thread checks every second and shuts down the socket of any that
 * did not, which ends it in its own thread. An event stream, once answered, has no
 * deadline (it is the server that sends). */
#include "config.h"

#include "manage/manage.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"

#define WATCH_REQUEST_SECS 15

struct watch {
	int fd;
	double deadline; /* 0: none (an event stream) */
	bool cut;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct watch *slots[WATCH_SLOTS];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void *watch_connection(int fd)
{
	struct watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fd = fd;
	w->deadline = now() + WATCH_REQUEST_SECS;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < WATCH_SLOTS; i++) {
		if (!slots[i]) {
			slots[i] = w;
			pthread_mutex_unlock(&lock);
			return w;
		}
	}
	pthread_mutex_unlock(&lock);
	free(w);
	return NULL; /* more than MHD admits: not possible, and then not watched */
}

void watch_answered(void *ctx, bool stream)
{
	struct watch *w = ctx;

	if (!w)
		return;
	pthread_mutex_lock(&lock);
	w->deadline = stream ? 0 : now() + WATCH_REQUEST_SECS;
	pthread_mutex_unlock(&lock);
}

/* Called before libmicrohttpd closes the socket, so a shutdown below never reaches a
 * descriptor number that was reused. */
void watch_closed(void *ctx)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < WATCH_SLOTS; i++)
		if (slots[i] == ctx)
			slots[i] = NULL;
	pthread_mutex_unlock(&lock);
	free(ctx);
}

static void *reap(void *arg)
{
	struct timespec second = {1, 0};

	for (;;) {
		double t;

		nanosleep(&second, NULL);
		t = now();
		pthread_mutex_lock(&lock);
		for (size_t i = 0; i < WATCH_SLOTS; i++) {
			struct watch *w = slots[i];

			if (w && w->deadline && t > w->deadline && !w->cut) {
				w->cut = true;
				shutdown(w->fd, SHUT_RDWR);
				log_info("https: a connection sent no complete request in %d s; "
					 "cut off",
					 WATCH_REQUEST_SECS);
			}
		}
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

int watch_start(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, reap, NULL) != 0)
		return -EAGAIN;
	pthread_detach(t);
	return 0;
}
