/* Retired TUN devices, deleted in groups (tun_reap.h). */
#include "config.h"

#include "main/tun_reap.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "main/main.h"
#include "main/tun.h"

#define REAP_DELAY 0.1
#define REAP_BATCH 512

void tun_reap_flush(struct main_ctx *m)
{
	int ret;

	ev_timer_stop(m->loop, &m->reap_timer);
	if (!m->reap_pending)
		return;
	ret = tun_delete_retired();
	if (ret < 0)
		log_err("cannot delete %u retired TUN devices: %s", m->reap_pending, strerror(-ret));
	else
		log_debug("deleted %u retired TUN devices", m->reap_pending);
	m->reap_pending = 0;
}

static void on_reap_timer(struct ev_loop *loop, ev_timer *timer, int revents)
{
	tun_reap_flush(timer->data);
}

int tun_reap_add(struct main_ctx *m, const char *name)
{
	int ret = tun_retire(name);

	if (ret < 0) {
		log_debug("cannot retire TUN device %s (%s): deleting it now", name, strerror(-ret));
		return tun_delete(name);
	}
	if (++m->reap_pending >= REAP_BATCH) {
		tun_reap_flush(m);
	} else if (!ev_is_active(&m->reap_timer)) {
		ev_timer_init(&m->reap_timer, on_reap_timer, REAP_DELAY, 0.);
		m->reap_timer.data = m;
		ev_timer_start(m->loop, &m->reap_timer);
	}
	return 0;
}
