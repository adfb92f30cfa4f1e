#include "config.h"

#include "main/ban.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <talloc.h>

#include "common/log.h"
#include "main/events.h"
#include "main/main.h"

#define BAN_BUCKETS     1024
#define BAN_MAX_ENTRIES 16384 /* bounds main's memory under a scan from many addresses */
#define BAN_SWEEP_SECS  60.

struct ban_entry {
	struct ban_entry *next;
	int family;
	uint8_t addr[16];
	unsigned score;
	time_t last;
	time_t banned_since, banned_until;
	time_t last_refusal_log;
};

struct ban_table {
	struct ban_entry *bucket[BAN_BUCKETS];
	unsigned n;
	ev_timer sweep;
};

static unsigned hash_addr(int family, const uint8_t *a)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < (family == AF_INET ? 4u : 16u); i++)
		h = (h ^ a[i]) * 16777619u;
	return h % BAN_BUCKETS;
}

/* IPv4 clients of the dual-stack listener arrive as ::ffff:a.b.c.d: scored as IPv4. */
static int addr_from_text(const char *ip, int *family, uint8_t a[16])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, ip, a) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return -EINVAL;
	*family = AF_INET6;
	if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a)) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		*family = AF_INET;
	}
	return 0;
}

static void addr_from_sockaddr(const struct sockaddr_storage *ss, int *family, uint8_t a[16])
{
	memset(a, 0, 16);
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		*family = AF_INET6;
		memcpy(a, &s6->sin6_addr, 16);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memmove(a, a + 12, 4);
			memset(a + 4, 0, 12);
			*family = AF_INET;
		}
	} else {
		*family = AF_INET;
		memcpy(a, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

static void entry_text(const struct ban_entry *e, char *buf, size_t len)
{
	inet_ntop(e->family, e->addr, buf, (socklen_t)len);
}

static void unlink_entry(struct ban_table *t, struct ban_entry *e)
{
	struct ban_entry **pp = &t->bucket[hash_addr(e->family, e->addr)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			t->n--;
			talloc_free(e);
			return;
		}
	}
}

static void unban_event(struct main_ctx *m, const struct ban_entry *e, const char *why)
{
	char ip[INET6_ADDRSTRLEN];
	struct main_event ev = {.kind = MEV_UNBAN, .ok = true, .client_ip = ip, .reason = why};

	entry_text(e, ip, sizeof(ip));
	main_event(m, &ev);
}

/* An entry past its ban, or idle past ban-reset-time, has nothing left to say. Returns
 * true when it was freed. */
static bool expire(struct main_ctx *m, struct ban_entry *e, time_t now)
{
	if (e->banned_until) {
		if (now < e->banned_until)
			return false;
		unban_event(m, e, "ban-time elapsed");
		unlink_entry(m->bans, e);
		return true;
	}
	if (now - e->last < (time_t)m->cfg->ban_reset_time)
		return false;
	unlink_entry(m->bans, e);
	return true;
}

static void sweep(struct main_ctx *m, time_t now)
{
	for (unsigned b = 0; b < BAN_BUCKETS; b++) {
		struct ban_entry *e = m->bans->bucket[b], *next;

		for (; e; e = next) {
			next = e->next;
			expire(m, e, now);
		}
	}
}

static void on_sweep(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct main_ctx *m = t->data;

	sweep(m, (time_t)ev_now(loop));
}

/* Makes room in a full table: the longest-idle address that is not banned goes. */
static void evict_one(struct ban_table *t)
{
	struct ban_entry *oldest = NULL;

	for (unsigned b = 0; b < BAN_BUCKETS; b++)
		for (struct ban_entry *e = t->bucket[b]; e; e = e->next)
			if (!e->banned_until && (!oldest || e->last < oldest->last))
				oldest = e;
	if (oldest)
		unlink_entry(t, oldest);
}

static struct ban_entry *lookup(struct main_ctx *m, int family, const uint8_t *a, time_t now,
				bool create)
{
	struct ban_table *t = m->bans;
	unsigned h = hash_addr(family, a);
	struct ban_entry *e;

	for (e = t->bucket[h]; e; e = e->next) {
		if (e->family == family && memcmp(e->addr, a, 16) == 0)
			return expire(m, e, now) ? (create ? lookup(m, family, a, now, true) : NULL)
						 : e;
	}
	if (!create)
		return NULL;
	if (t->n >= BAN_MAX_ENTRIES)
		sweep(m, now);
	if (t->n >= BAN_MAX_ENTRIES)
		evict_one(t);
	if (t->n >= BAN_MAX_ENTRIES)
		return NULL; /* every entry is a live ban: score nothing new */
	e = talloc_zero(t, struct ban_entry);
	if (!e)
		return NULL;
	e->family = family;
	memcpy(e->addr, a, 16);
	e->last = now;
	e->next = t->bucket[h];
	t->bucket[h] = e;
	t->n++;
	return e;
}

static void add_points(struct main_ctx *m, struct ban_entry *e, unsigned points, time_t now)
{
	const struct sluice_config *c = m->cfg;
	char ip[INET6_ADDRSTRLEN], why[96];
	struct main_event ev = {.kind = MEV_BAN, .ok = true, .client_ip = ip, .reason = why};

	e->last = now;
	if (e->banned_until)
		return;
	e->score = e->score > UINT32_MAX - points ? UINT32_MAX : e->score + points;
	if (e->score < c->max_ban_score)
		return;
	e->banned_since = now;
	e->banned_until = now + (time_t)c->ban_time;
	entry_text(e, ip, sizeof(ip));
	snprintf(why, sizeof(why), "score %u reached max-ban-score %u; banned for %u s", e->score,
		 c->max_ban_score, c->ban_time);
	main_event(m, &ev);
}

int main_ban_init(struct main_ctx *m)
{
	m->bans = talloc_zero(m, struct ban_table);
	if (!m->bans)
		return -ENOMEM;
	ev_timer_init(&m->bans->sweep, on_sweep, BAN_SWEEP_SECS, BAN_SWEEP_SECS);
	m->bans->sweep.data = m;
	ev_timer_start(m->loop, &m->bans->sweep);
	return 0;
}

bool main_ban_connection(struct main_ctx *m, const struct sockaddr_storage *peer)
{
	time_t now = (time_t)ev_now(m->loop);
	struct ban_entry *e;
	uint8_t a[16];
	int family;

	if (!m->cfg->max_ban_score)
		return false;
	addr_from_sockaddr(peer, &family, a);
	e = lookup(m, family, a, now, m->cfg->ban_points_connection > 0);
	if (!e)
		return false;
	if (!e->banned_until && m->cfg->ban_points_connection)
		add_points(m, e, m->cfg->ban_points_connection, now);
	if (!e->banned_until)
		return false;
	/* At most one line a second per address, so a flood does not flood the log. */
	if (e->last_refusal_log != now) {
		char ip[INET6_ADDRSTRLEN];

		e->last_refusal_log = now;
		entry_text(e, ip, sizeof(ip));
		log_notice("connection from %s refused: banned for %lld more s", ip,
			   (long long)(e->banned_until - now));
	}
	return true;
}

/* A worker that crashed before its client authenticated (workers.c decides): a probe of
 * the workers' address-space layout, or of a bug, costs the client's address. */
static void ban_worker_crash(struct main_ctx *m, const struct main_event *ev)
{
	unsigned points = m->cfg->ban_points_worker_crash, score;
	time_t now = (time_t)ev_now(m->loop);
	struct ban_entry *e;
	uint8_t a[16];
	int family;

	if (!m->cfg->max_ban_score || !points || addr_from_text(ev->w->client_ip, &family, a) < 0)
		return;
	e = lookup(m, family, a, now, true);
	if (!e)
		return;
	/* Before add_points(), so that a ban it causes is logged after its reason. */
	score = e->score;
	if (!e->banned_until)
		score = score > UINT32_MAX - points ? UINT32_MAX : score + points;
	log_notice("ban points: client=%s +%u for a worker crash before authentication "
		   "(worker %d %s); score %u",
		   ev->w->client_ip, points, (int)ev->w->pid, ev->detail, score);
	add_points(m, e, points, now);
}

void main_ban_on_event(struct main_ctx *m, const struct main_event *ev)
{
	time_t now = (time_t)ev_now(m->loop);
	struct ban_entry *e;
	uint8_t a[16];
	int family;

	if (ev->kind == MEV_WORKER_EXIT && ev->crash_before_auth) {
		ban_worker_crash(m, ev);
		return;
	}
	/* Only the client's own failures score: not a full server or a broken file. */
	if (ev->kind != MEV_AUTH || ev->ok || !m->cfg->max_ban_score ||
	    !m->cfg->ban_points_wrong_password || !ev->client_ip ||
	    (ev->reason && (strcmp(ev->reason, "too many sessions") == 0 ||
			    strcmp(ev->reason, "password file error") == 0)))
		return;
	if (addr_from_text(ev->client_ip, &family, a) < 0)
		return;
	e = lookup(m, family, a, now, true);
	if (e)
		add_points(m, e, m->cfg->ban_points_wrong_password, now);
}

void main_ban_list(struct main_ctx *m, bool banned_only,
		   void (*cb)(void *arg, const struct ban_info *b), void *arg)
{
	time_t now = (time_t)ev_now(m->loop);

	sweep(m, now);
	for (unsigned b = 0; b < BAN_BUCKETS; b++) {
		for (struct ban_entry *e = m->bans->bucket[b]; e; e = e->next) {
			struct ban_info info = {.score = e->score,
						.last = e->last,
						.banned_since = e->banned_since,
						.banned_until = e->banned_until};

			if (banned_only && !e->banned_until)
				continue;
			entry_text(e, info.ip, sizeof(info.ip));
			cb(arg, &info);
		}
	}
}

int main_ban_unban(struct main_ctx *m, const char *ip)
{
	struct ban_entry *e;
	uint8_t a[16];
	int family;

	if (addr_from_text(ip, &family, a) < 0)
		return -EINVAL;
	e = lookup(m, family, a, (time_t)ev_now(m->loop), false);
	if (!e)
		return -ENOENT;
	if (e->banned_until)
		unban_event(m, e, "unbanned by the operator");
	unlink_entry(m->bans, e);
	return 0;
}
