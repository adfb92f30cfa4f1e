#include "config.h"

#include "main/ban.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <talloc.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "main/ban_nft.h"
#include "main/events.h"
#include "main/main.h"

#define BAN_BUCKETS     1024
#define BAN_MAX_ENTRIES 16384 /* bounds main's memory under a scan from many addresses */
#define BAN_SWEEP_SECS  60.
/* Scores are kept in thousandths of a point, so that one that drains a fraction of a
 * point per second loses none of it to rounding. */
#define MILLI     1000u
#define SCORE_MAX ((uint64_t)UINT32_MAX * MILLI)
/* "IPv6 (in IPv6/len)" */
#define BAN_CLIENT_STRLEN (INET6_ADDRSTRLEN + NETADDR_PREFIX_STRLEN + 6)

/* An IPv4 address, or the IPv6 prefix of ban-ipv6-prefix bits (an address of its own
 * at 128): one host or site usually holds a whole /64, and it would be no work for it to
 * score under each of its addresses in turn. */
struct ban_entry {
	struct ban_entry *next;
	struct netaddr key; /* host bits beyond prefix cleared */
	unsigned prefix;    /* 32 for IPv4 */
	uint64_t score;     /* in thousandths of a point, as it was at last */
	time_t last;        /* when it last scored (or tried to, while banned) */
	time_t banned_since, banned_until;
	time_t last_refusal_log;
};

struct ban_table {
	struct ban_entry *bucket[BAN_BUCKETS];
	unsigned n;
	ev_timer sweep;
};

static unsigned hash_key(const struct netaddr *k)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(k->a); i++)
		h = (h ^ k->a[i]) * 16777619u;
	return h % BAN_BUCKETS;
}

/* The entry a scores under: a itself (IPv4), or its prefix. */
static unsigned to_key(const struct main_ctx *m, struct netaddr *a)
{
	unsigned prefix = a->family == AF_INET6 ? m->cfg->ban_ipv6_prefix : 32;

	netaddr_mask(a, prefix);
	return prefix;
}

/* "198.18.0.2", "fd00:18:0:1::/64"; an IPv6 entry of 128 bits is an address. */
static void entry_text(const struct ban_entry *e, char *buf, size_t len)
{
	netaddr_text(&e->key, buf, len);
	if (e->prefix < netaddr_bits(&e->key))
		snprintf(buf + strlen(buf), len - strlen(buf), "/%u", e->prefix);
}

static void unlink_entry(struct ban_table *t, struct ban_entry *e)
{
	struct ban_entry **pp = &t->bucket[hash_key(&e->key)];

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
	char ip[NETADDR_PREFIX_STRLEN];
	struct main_event ev = {.kind = MEV_UNBAN, .ok = true, .client_ip = ip, .reason = why};

	entry_text(e, ip, sizeof(ip));
	main_event(m, &ev);
}

/* e's score at now, in thousandths of a point. It drains at max-ban-score points per
 * ban-reset-time from when it last scored, worked out when asked (no timer per entry); and
 * one idle for all of ban-reset-time is zero whatever it was. That is ocserv's rule (a
 * score is forgotten after ban-reset-time without new points) made gradual: a score below
 * max-ban-score has drained by then anyway. */
static uint64_t decayed(const struct sluice_config *c, const struct ban_entry *e, time_t now)
{
	uint64_t idle = now > e->last ? (uint64_t)(now - e->last) : 0, drained;

	if (idle >= c->ban_reset_time)
		return 0;
	drained = idle * c->max_ban_score * MILLI / c->ban_reset_time;
	return e->score > drained ? e->score - drained : 0;
}

/* Whole points as the log and the control tool show them: a fraction counts as a point
 * until it has drained. */
static unsigned points(uint64_t milli)
{
	return (unsigned)((milli + MILLI - 1) / MILLI);
}

/* An entry past its ban, or not banned and drained to zero, has nothing left to say.
 * Returns true when it was freed. The kernel's copy of a ban (ban_nft.h) times out by
 * itself at the same moment. */
static bool expire(struct main_ctx *m, struct ban_entry *e, time_t now)
{
	if (e->banned_until) {
		if (now < e->banned_until)
			return false;
		unban_event(m, e, "ban-time elapsed");
		unlink_entry(m->bans, e);
		return true;
	}
	if (decayed(m->cfg, e, now) > 0)
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

/* The entry of address a (its prefix for IPv6), created when asked to. */
static struct ban_entry *lookup(struct main_ctx *m, const struct netaddr *a, time_t now,
				bool create)
{
	struct ban_table *t = m->bans;
	struct netaddr k = *a;
	unsigned prefix = to_key(m, &k), h = hash_key(&k);
	struct ban_entry *e;

	for (e = t->bucket[h]; e; e = e->next) {
		if (e->key.family == k.family && memcmp(e->key.a, k.a, sizeof(k.a)) == 0)
			return expire(m, e, now) ? (create ? lookup(m, a, now, true) : NULL) : e;
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
	e->key = k;
	e->prefix = prefix;
	e->last = now;
	e->next = t->bucket[h];
	t->bucket[h] = e;
	t->n++;
	return e;
}

/* A score (thousandths) with add points more, bounded. */
static uint64_t score_after(uint64_t score, unsigned add)
{
	uint64_t more = (uint64_t)add * MILLI;

	return score > SCORE_MAX - more ? SCORE_MAX : score + more;
}

static void add_points(struct main_ctx *m, struct ban_entry *e, unsigned add, time_t now)
{
	const struct sluice_config *c = m->cfg;
	char ip[NETADDR_PREFIX_STRLEN], why[96];
	struct main_event ev = {.kind = MEV_BAN, .ok = true, .client_ip = ip, .reason = why};

	/* What drained so far is settled, so that the score drains on from now. */
	e->score = decayed(c, e, now);
	e->last = now;
	if (e->banned_until)
		return;
	e->score = score_after(e->score, add);
	/* In whole points, as the score is shown: points that add up to max-ban-score ban
	 * also when a fraction of one has drained between them. */
	if (points(e->score) < c->max_ban_score)
		return;
	e->banned_since = now;
	e->banned_until = now + (time_t)c->ban_time;
	entry_text(e, ip, sizeof(ip));
	snprintf(why, sizeof(why), "score %u reached max-ban-score %u; banned for %u s",
		 points(e->score), c->max_ban_score, c->ban_time);
	main_event(m, &ev);
	ban_nft_add(m, &e->key, e->banned_until);
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

/* "198.18.0.2", or "fd00:18:0:1::3 (in fd00:18:0:1::/64)": the address, and the prefix
 * it scores under when that is more than the address. */
static void client_text(const struct netaddr *a, const struct ban_entry *e, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN], key[NETADDR_PREFIX_STRLEN];

	netaddr_text(a, ip, sizeof(ip));
	entry_text(e, key, sizeof(key));
	if (strcmp(ip, key) == 0)
		snprintf(buf, len, "%s", ip);
	else
		snprintf(buf, len, "%s (in %s)", ip, key);
}

bool main_ban_connection(struct main_ctx *m, const struct sockaddr_storage *peer)
{
	time_t now = (time_t)ev_now(m->loop);
	struct ban_entry *e;
	struct netaddr a;
	unsigned port;

	if (!m->cfg->max_ban_score)
		return false;
	netaddr_from_sockaddr(peer, &a, &port);
	e = lookup(m, &a, now, m->cfg->ban_points_connection > 0);
	if (!e)
		return false;
	if (!e->banned_until && m->cfg->ban_points_connection)
		add_points(m, e, m->cfg->ban_points_connection, now);
	if (!e->banned_until)
		return false;
	/* At most one line a second per address, so a flood does not flood the log. */
	if (e->last_refusal_log != now) {
		char who[BAN_CLIENT_STRLEN];

		e->last_refusal_log = now;
		client_text(&a, e, who, sizeof(who));
		log_notice("connection from %s refused: banned for %lld more s", who,
			   (long long)(e->banned_until - now));
	}
	return true;
}

/* A worker that crashed before its client authenticated (workers.c decides): a probe of
 * the workers' address-space layout, or of a bug, costs the client's address. */
static void ban_worker_crash(struct main_ctx *m, const struct main_event *ev)
{
	unsigned add = m->cfg->ban_points_worker_crash;
	time_t now = (time_t)ev_now(m->loop);
	uint64_t score;
	char who[BAN_CLIENT_STRLEN];
	struct ban_entry *e;
	struct netaddr a;

	if (!m->cfg->max_ban_score || !add || netaddr_parse(ev->w->client_ip, &a) < 0)
		return;
	e = lookup(m, &a, now, true);
	if (!e)
		return;
	/* Before add_points(), so that a ban it causes is logged after its reason. */
	score = decayed(m->cfg, e, now);
	if (!e->banned_until)
		score = score_after(score, add);
	client_text(&a, e, who, sizeof(who));
	log_notice("ban points: client=%s +%u for a worker crash before authentication "
		   "(worker %d %s); score %u",
		   who, add, (int)ev->w->pid, ev->detail, points(score));
	add_points(m, e, add, now);
}

void main_ban_on_event(struct main_ctx *m, const struct main_event *ev)
{
	time_t now = (time_t)ev_now(m->loop);
	struct ban_entry *e;
	struct netaddr a;

	if (ev->kind == MEV_WORKER_EXIT && ev->crash_before_auth) {
		ban_worker_crash(m, ev);
		return;
	}
	/* Only the client's own failures score: sec says which are not (a full server, a
	 * broken file, a backend that did not answer). */
	if (ev->kind != MEV_AUTH || ev->ok || ev->not_scored || !m->cfg->max_ban_score ||
	    !m->cfg->ban_points_wrong_password || !ev->client_ip)
		return;
	if (netaddr_parse(ev->client_ip, &a) < 0)
		return;
	e = lookup(m, &a, now, true);
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
			struct ban_info info = {.score = points(decayed(m->cfg, e, now)),
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

int main_ban_unban(struct main_ctx *m, const char *text)
{
	struct ban_entry *e;
	struct netaddr a;
	unsigned len;

	if (netaddr_prefix_parse(text, &a, &len) < 0)
		return -EINVAL;
	e = lookup(m, &a, (time_t)ev_now(m->loop), false);
	/* An address names the entry it scores under; a prefix must be that entry's. */
	if (!e || (len != netaddr_bits(&a) && len != e->prefix))
		return -ENOENT;
	if (e->banned_until) {
		unban_event(m, e, "unbanned by the operator");
		ban_nft_del(m, &e->key);
	}
	unlink_entry(m->bans, e);
	return 0;
}
