/* rx-data-per-sec and tx-data-per-sec: the tunnel shapes a session by not reading.
 * When the tx bucket is empty the TUN device is not read until it has refilled, so
 * packets wait in the kernel's queue and TCP inside the tunnel slows its sender; when
 * the rx bucket is empty the client's TLS socket and DTLS socket are not read, so the
 * client's own TCP (or its UDP queue) pushes back. One timer per direction wakes the
 * reader; nothing polls. An unlimited direction never gets here: its readers test the
 * rate and skip the rest. */
#include "config.h"

#include "worker/tunnel.h"

#include "common/log.h"

static uint64_t clock_ns(struct tunnel *t)
{
	return (uint64_t)(ev_now(t->w->loop) * (double)BUCKET_NS_PER_S);
}

static void arm(struct tunnel *t, ev_timer *timer, const struct bucket *b)
{
	ev_timer_set(timer, (double)bucket_wait(b) / (double)BUCKET_NS_PER_S, 0.);
	ev_timer_start(t->w->loop, timer);
}

static void tx_resume(struct ev_loop *loop, ev_timer *timer, int revents)
{
	struct tunnel *t = timer->data;

	bucket_refill(&t->tx_bw, clock_ns(t));
	if (t->tx_bw.level <= 0) {
		arm(t, timer, &t->tx_bw); /* the clock fell short of the timer's estimate */
		return;
	}
	/* A full socket keeps the TUN device unread; tunnel_flush resumes it then. */
	if (!t->blocked)
		ev_io_start(loop, &t->tun_rd);
}

static void rx_resume(struct ev_loop *loop, ev_timer *timer, int revents)
{
	struct tunnel *t = timer->data;

	bucket_refill(&t->rx_bw, clock_ns(t));
	if (t->rx_bw.level <= 0) {
		arm(t, timer, &t->rx_bw);
		return;
	}
	ev_io_start(loop, &t->tls_rd);
	/* Records already received into GnuTLS or our buffer do not wake the loop. */
	ev_feed_event(loop, &t->tls_rd, EV_READ);
	if (t->dtls)
		dtls_rx_pause(t, false);
}

void shaping_start(struct tunnel *t)
{
	const MwTunnelOk *in = t->w->sess;
	uint64_t now = clock_ns(t);

	bucket_init(&t->rx_bw, in->rx_per_sec, now);
	bucket_init(&t->tx_bw, in->tx_per_sec, now);
	ev_init(&t->rx_wait, rx_resume);
	ev_init(&t->tx_wait, tx_resume);
	t->rx_wait.data = t->tx_wait.data = t;
	if (in->rx_per_sec || in->tx_per_sec)
		log_info("bandwidth limits: rx %u bytes/s, tx %u bytes/s (0 = unlimited)",
			 in->rx_per_sec, in->tx_per_sec);
}

int worker_on_limits(void *ctx, void *msg, int *fds)
{
	struct tunnel *t = ctx;
	MwLimits *l = msg;
	uint64_t now = clock_ns(t);

	/* A paused direction resumes when its timer fires and finds the new level. */
	bucket_init(&t->rx_bw, l->rx_per_sec, now);
	bucket_init(&t->tx_bw, l->tx_per_sec, now);
	log_info("bandwidth limits changed: rx %u bytes/s, tx %u bytes/s (0 = unlimited)",
		 l->rx_per_sec, l->tx_per_sec);
	return 0;
}

bool shaping_tx_spent(struct tunnel *t, size_t len)
{
	if (!bucket_take(&t->tx_bw, len, clock_ns(t)))
		return false;
	if (shaping_tx_paused(t))
		return true; /* the running timer checks the level when it fires */
	ev_io_stop(t->w->loop, &t->tun_rd);
	arm(t, &t->tx_wait, &t->tx_bw);
	return true;
}

bool shaping_rx_spent(struct tunnel *t, size_t len)
{
	if (!bucket_take(&t->rx_bw, len, clock_ns(t)))
		return false;
	if (shaping_rx_paused(t))
		return true;
	ev_io_stop(t->w->loop, &t->tls_rd);
	if (t->dtls)
		dtls_rx_pause(t, true);
	arm(t, &t->rx_wait, &t->rx_bw);
	return true;
}

bool shaping_tx_paused(const struct tunnel *t)
{
	return ev_is_active(&t->tx_wait);
}

bool shaping_rx_paused(const struct tunnel *t)
{
	return ev_is_active(&t->rx_wait);
}
