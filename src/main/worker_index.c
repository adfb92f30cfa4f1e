/* main's registry of workers: the list that listings, metrics and "terminate all" walk on
 * purpose, and the hash indexes that everything else finds a worker by, so that main's
 * cost per event does not grow with the number of sessions (10,000 per server).
 *
 * The keys are fields of the worker itself (uthash), so a key may only change here: the
 * old key leaves its index before the field changes. An index holds at most one worker per
 * key; a newer worker with the same key takes the older one's place, and a worker leaves
 * an index only if it is the one the index holds, so a displaced worker never removes its
 * successor. */
#include "config.h"

#include "main/main.h"

#include <errno.h>
#include <string.h>

/* Takes w out of one index if it is what the index holds for its key (it may never have
 * been added, or been displaced by a newer worker). */
#define UNINDEX(hh, head, keyptr, keylen, w)                                                       \
	do {                                                                                       \
		struct main_worker *cur_;                                                          \
		HASH_FIND(hh, head, keyptr, keylen, cur_);                                         \
		if (cur_ == (w))                                                                   \
			HASH_DELETE(hh, head, cur_);                                               \
	} while (0)

/* Makes w what one index holds for its key, in place of any other worker. ret: 0, or
 * -ENOMEM when the table could not grow (uthash then left w out). */
#define INDEX(hh, head, keyptr, keylen, w, ret)                                                    \
	do {                                                                                       \
		struct main_worker *cur_;                                                          \
		HASH_FIND(hh, head, keyptr, keylen, cur_);                                         \
		if (cur_ != (w)) {                                                                 \
			if (cur_)                                                                  \
				HASH_DELETE(hh, head, cur_);                                       \
			HASH_ADD_KEYPTR(hh, head, keyptr, keylen, w);                              \
			HASH_FIND(hh, head, keyptr, keylen, cur_);                                 \
		}                                                                                  \
		(ret) = cur_ == (w) ? 0 : -ENOMEM;                                                 \
	} while (0)

int main_workers_add(struct main_ctx *m, struct main_worker *w)
{
	int ret;

	INDEX(hh_id, m->by_id, &w->id, sizeof(w->id), w, ret);
	if (ret < 0)
		return ret;
	DL_PREPEND(m->workers, w);
	m->n_workers++;
	m->n_holding_room += (w->state & MWS_HOLDS_ROOM) != 0;
	return 0;
}

void main_workers_set_state(struct main_ctx *m, struct main_worker *w, enum main_worker_state s)
{
	m->n_holding_room += (s & MWS_HOLDS_ROOM) != 0;
	m->n_holding_room -= (w->state & MWS_HOLDS_ROOM) != 0;
	w->state = s;
}

void main_workers_remove(struct main_ctx *m, struct main_worker *w)
{
	UNINDEX(hh_id, m->by_id, &w->id, sizeof(w->id), w);
	if (w->pid > 0)
		UNINDEX(hh_pid, m->by_pid, &w->pid, sizeof(w->pid), w);
	if (w->has_dtls_id)
		UNINDEX(hh_dtls, m->by_dtls_id, w->dtls_id, sizeof(w->dtls_id), w);
	if (w->sid)
		UNINDEX(hh_sid, m->by_sid, w->sid, strlen(w->sid), w);
	DL_DELETE(m->workers, w);
	m->n_workers--;
	m->n_holding_room -= (w->state & MWS_HOLDS_ROOM) != 0;
}

int main_workers_set_pid(struct main_ctx *m, struct main_worker *w, pid_t pid)
{
	int ret;

	if (w->pid > 0)
		UNINDEX(hh_pid, m->by_pid, &w->pid, sizeof(w->pid), w);
	w->pid = pid;
	INDEX(hh_pid, m->by_pid, &w->pid, sizeof(w->pid), w, ret);
	return ret;
}

int main_workers_set_dtls_id(struct main_ctx *m, struct main_worker *w,
			     const uint8_t id[MAIN_DTLS_ID_LEN])
{
	int ret;

	if (w->has_dtls_id)
		UNINDEX(hh_dtls, m->by_dtls_id, w->dtls_id, sizeof(w->dtls_id), w);
	memcpy(w->dtls_id, id, sizeof(w->dtls_id));
	INDEX(hh_dtls, m->by_dtls_id, w->dtls_id, sizeof(w->dtls_id), w, ret);
	w->has_dtls_id = ret == 0;
	return ret;
}

int main_workers_set_tunnel(struct main_ctx *m, struct main_worker *w, bool up)
{
	int ret = 0;

	if (!w->sid)
		return -EINVAL;
	if (up)
		INDEX(hh_sid, m->by_sid, w->sid, strlen(w->sid), w, ret);
	else
		UNINDEX(hh_sid, m->by_sid, w->sid, strlen(w->sid), w);
	return ret;
}

struct main_worker *main_find_worker(struct main_ctx *m, uint32_t id, pid_t pid)
{
	struct main_worker *w = NULL;

	if (id)
		HASH_FIND(hh_id, m->by_id, &id, sizeof(id), w);
	if (!w && pid > 0)
		HASH_FIND(hh_pid, m->by_pid, &pid, sizeof(pid), w);
	return w;
}

struct main_worker *main_find_by_dtls_id(struct main_ctx *m, const uint8_t *id, size_t len)
{
	struct main_worker *w = NULL;

	if (len != MAIN_DTLS_ID_LEN)
		return NULL;
	HASH_FIND(hh_dtls, m->by_dtls_id, id, len, w);
	/* An ended tunnel keeps its id until the worker is gone, but takes no datagrams. */
	return w && w->state == MWS_TUNNEL ? w : NULL;
}

struct main_worker *main_find_tunnel(struct main_ctx *m, const char *sid)
{
	struct main_worker *w = NULL;

	HASH_FIND(hh_sid, m->by_sid, sid, strlen(sid), w);
	return w;
}
