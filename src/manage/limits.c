/* Per-address limits of the management API: a request rate (a token bucket of
 * LIMIT_BURST requests refilled at LIMIT_RATE a second), and after LIMIT_AUTH_FAILS
 * failed authentications within a minute, nothing for LIMIT_BLOCK_SECS. The table
 * holds LIMIT_SLOTS addresses; a new one takes the slot seen least recently. */
#include "config.h"

#include "manage/manage.h"

#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define LIMIT_SLOTS       256
#define LIMIT_RATE        20.0
#define LIMIT_BURST       40.0
#define LIMIT_AUTH_FAILS  10
#define LIMIT_BLOCK_SECS  60.0

struct slot {
	uint8_t addr[16];
	bool used;
	double tokens;
	double seen;           /* last request, seconds */
	double fail_window;    /* start of the minute failures are counted in */
	unsigned fails;
	double blocked_until;
};

static struct slot slots[LIMIT_SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The address as 16 bytes (IPv4 mapped into IPv6); false for other families. */
static bool key(const struct sockaddr *sa, uint8_t out[16])
{
	memset(out, 0, 16);
	if (sa && sa->sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

static struct slot *find(const uint8_t k[16], double t)
{
	struct slot *oldest = &slots[0];

	for (size_t i = 0; i < LIMIT_SLOTS; i++) {
		if (slots[i].used && memcmp(slots[i].addr, k, 16) == 0)
			return &slots[i];
		if (!slots[i].used || slots[i].seen < oldest->seen)
			oldest = &slots[i];
		if (!slots[i].used)
			break;
	}
	memset(oldest, 0, sizeof(*oldest));
	memcpy(oldest->addr, k, 16);
	oldest->used = true;
	oldest->tokens = LIMIT_BURST;
	oldest->seen = oldest->fail_window = t;
	return oldest;
}

bool limits_allow(const struct sockaddr *addr)
{
	uint8_t k[16];
	double t = now();
	struct slot *s;
	bool ok;

	if (!key(addr, k))
		return false;
	pthread_mutex_lock(&lock);
	s = find(k, t);
	s->tokens += (t - s->seen) * LIMIT_RATE;
	if (s->tokens > LIMIT_BURST)
		s->tokens = LIMIT_BURST;
	s->seen = t;
	ok = t >= s->blocked_until && s->tokens >= 1.0;
	if (ok)
		s->tokens -= 1.0;
	pthread_mutex_unlock(&lock);
	return ok;
}

void limits_auth_failed(const struct sockaddr *addr)
{
	uint8_t k[16];
	double t = now();
	struct slot *s;

	if (!key(addr, k))
		return;
	pthread_mutex_lock(&lock);
	s = find(k, t);
	if (t - s->fail_window > 60.0) {
		s->fail_window = t;
		s->fails = 0;
	}
	if (++s->fails >= LIMIT_AUTH_FAILS) {
		s->blocked_until = t + LIMIT_BLOCK_SECS;
		s->fails = 0;
	}
	pthread_mutex_unlock(&lock);
}
