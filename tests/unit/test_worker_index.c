/* main's indexes of its workers (src/main/worker_index.c), at the scale sluice is built
 * for: 10,000 workers found by id, pid, DTLS id and session, re-keyed as their tunnels
 * start, and gone from every index, and from the list, once freed. */
#include "config.h"
#include "main/main.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"

#define N 10000

static struct main_ctx *m;

static void setup(void)
{
	m = talloc_zero(NULL, struct main_ctx);
}

static void teardown(void)
{
	HASH_CLEAR(hh_id, m->by_id);
	HASH_CLEAR(hh_pid, m->by_pid);
	HASH_CLEAR(hh_dtls, m->by_dtls_id);
	HASH_CLEAR(hh_sid, m->by_sid);
	talloc_free(m);
}

/* Distinct ids, pids, DTLS ids and sids for worker i. */
static void dtls_id_of(unsigned i, unsigned gen, uint8_t id[MAIN_DTLS_ID_LEN])
{
	memset(id, 0xa5, MAIN_DTLS_ID_LEN);
	memcpy(id, &i, sizeof(i));
	memcpy(id + MAIN_DTLS_ID_LEN - sizeof(gen), &gen, sizeof(gen));
}

static struct main_worker *worker(unsigned i)
{
	struct main_worker *w = talloc_zero(m, struct main_worker);

	w->m = m;
	w->id = i + 1;
	w->sid = talloc_asprintf(w, "%012x", i * 7919u);
	w->state = MWS_TUNNEL;
	ck_assert_int_eq(main_workers_add(m, w), 0);
	return w;
}

static unsigned list_length(void)
{
	unsigned n = 0;

	for (struct main_worker *w = m->workers; w; w = w->next)
		n++;
	return n;
}

static void start_tunnel(struct main_worker *w, unsigned i, unsigned gen)
{
	uint8_t id[MAIN_DTLS_ID_LEN];

	dtls_id_of(i, gen, id);
	ck_assert_int_eq(main_workers_set_dtls_id(m, w, id), 0);
	ck_assert_int_eq(main_workers_set_tunnel(m, w, true), 0);
}

START_TEST(test_ten_thousand_by_every_key)
{
	static struct main_worker *w[N];
	uint8_t id[MAIN_DTLS_ID_LEN];

	for (unsigned i = 0; i < N; i++) {
		w[i] = worker(i);
		/* Exec'd workers get their pid at once, template children later: both ways. */
		ck_assert_int_eq(main_workers_set_pid(m, w[i], (pid_t)(100000 + i)), 0);
		start_tunnel(w[i], i, 1);
	}
	ck_assert_uint_eq(m->n_workers, N);
	ck_assert_uint_eq(list_length(), N);
	for (unsigned i = 0; i < N; i++) {
		ck_assert_ptr_eq(main_find_worker(m, i + 1, 0), w[i]);
		ck_assert_ptr_eq(main_find_worker(m, 0, (pid_t)(100000 + i)), w[i]);
		dtls_id_of(i, 1, id);
		ck_assert_ptr_eq(main_find_by_dtls_id(m, id, sizeof(id)), w[i]);
		ck_assert_ptr_eq(main_find_tunnel(m, w[i]->sid), w[i]);
	}
	ck_assert_ptr_null(main_find_worker(m, N + 1, 0));
	ck_assert_ptr_null(main_find_worker(m, 0, 99999));
	ck_assert_ptr_null(main_find_tunnel(m, "ffffffffffff"));
	dtls_id_of(N, 1, id);
	ck_assert_ptr_null(main_find_by_dtls_id(m, id, sizeof(id)));
	ck_assert_ptr_null(main_find_by_dtls_id(m, id, sizeof(id) - 1));
}
END_TEST

/* A new tunnel brings a new DTLS id: the old one must match nothing. */
START_TEST(test_dtls_rekey)
{
	static struct main_worker *w[N];
	uint8_t id[MAIN_DTLS_ID_LEN];

	for (unsigned i = 0; i < N; i++) {
		w[i] = worker(i);
		start_tunnel(w[i], i, 1);
	}
	for (unsigned i = 0; i < N; i += 2)
		start_tunnel(w[i], i, 2);
	for (unsigned i = 0; i < N; i++) {
		dtls_id_of(i, 1, id);
		ck_assert_ptr_eq(main_find_by_dtls_id(m, id, sizeof(id)), i % 2 ? w[i] : NULL);
		dtls_id_of(i, 2, id);
		ck_assert_ptr_eq(main_find_by_dtls_id(m, id, sizeof(id)), i % 2 ? NULL : w[i]);
	}
	/* An ended tunnel takes no more datagrams, though its worker still runs. */
	w[0]->state = MWS_ENDED;
	dtls_id_of(0, 2, id);
	ck_assert_ptr_null(main_find_by_dtls_id(m, id, sizeof(id)));
}
END_TEST

/* max-clients' count follows the workers' states and removals, without a walk. */
START_TEST(test_holding_room)
{
	struct main_worker *a = worker(0), *b = worker(1);

	ck_assert_uint_eq(m->n_holding_room, 2);
	main_workers_set_state(m, a, MWS_ENDED);
	ck_assert_uint_eq(m->n_holding_room, 1);
	main_workers_set_state(m, a, MWS_ENDED);
	ck_assert_uint_eq(m->n_holding_room, 1);
	main_workers_set_state(m, b, MWS_SCRIPT);
	ck_assert_uint_eq(m->n_holding_room, 1);
	main_workers_remove(m, a);
	ck_assert_uint_eq(m->n_holding_room, 1);
	main_workers_remove(m, b);
	ck_assert_uint_eq(m->n_holding_room, 0);
	b->state = MWS_AUTH;
	ck_assert_int_eq(main_workers_add(m, b), 0);
	ck_assert_uint_eq(m->n_holding_room, 0);
	main_workers_set_state(m, b, MWS_COOKIE);
	ck_assert_uint_eq(m->n_holding_room, 1);
}
END_TEST

/* Freed by any path (clean exit, kill, session re-use): found by no key afterwards, and
 * the rest are still found. */
START_TEST(test_no_stale_entry_after_free)
{
	static struct main_worker *w[N];
	static char sid[N][16];
	uint8_t id[MAIN_DTLS_ID_LEN];

	for (unsigned i = 0; i < N; i++) {
		w[i] = worker(i);
		ck_assert_int_eq(main_workers_set_pid(m, w[i], (pid_t)(100000 + i)), 0);
		start_tunnel(w[i], i, 1);
		snprintf(sid[i], sizeof(sid[i]), "%s", w[i]->sid);
	}
	for (unsigned i = 0; i < N; i += 3) {
		main_workers_remove(m, w[i]);
		talloc_free(w[i]);
	}
	ck_assert_uint_eq(m->n_workers, N - (N + 2) / 3);
	ck_assert_uint_eq(list_length(), m->n_workers);
	for (unsigned i = 0; i < N; i++) {
		struct main_worker *want = i % 3 ? w[i] : NULL;

		ck_assert_ptr_eq(main_find_worker(m, i + 1, 0), want);
		ck_assert_ptr_eq(main_find_worker(m, 0, (pid_t)(100000 + i)), want);
		dtls_id_of(i, 1, id);
		ck_assert_ptr_eq(main_find_by_dtls_id(m, id, sizeof(id)), want);
		ck_assert_ptr_eq(main_find_tunnel(m, sid[i]), want);
	}
	/* a worker whose tunnel closed is no longer its session's tunnel */
	ck_assert_int_eq(main_workers_set_tunnel(m, w[1], false), 0);
	ck_assert_ptr_null(main_find_tunnel(m, sid[1]));
	ck_assert_ptr_eq(main_find_worker(m, 2, 0), w[1]);
}
END_TEST

/* The same cookie on a new connection: the newer worker becomes the session's tunnel,
 * and the older one, when it goes, does not take the newer one out of the index. */
START_TEST(test_session_reuse)
{
	struct main_worker *old = worker(1), *new = worker(2);
	uint8_t id[MAIN_DTLS_ID_LEN];

	new->sid = talloc_strdup(new, old->sid);
	start_tunnel(old, 1, 1);
	ck_assert_ptr_eq(main_find_tunnel(m, old->sid), old);
	start_tunnel(new, 2, 1);
	ck_assert_ptr_eq(main_find_tunnel(m, old->sid), new);
	main_workers_remove(m, old);
	talloc_free(old);
	ck_assert_ptr_eq(main_find_tunnel(m, new->sid), new);
	dtls_id_of(2, 1, id);
	ck_assert_ptr_eq(main_find_by_dtls_id(m, id, sizeof(id)), new);
	dtls_id_of(1, 1, id);
	ck_assert_ptr_null(main_find_by_dtls_id(m, id, sizeof(id)));
	ck_assert_uint_eq(m->n_workers, 1);
	ck_assert_ptr_eq(m->workers, new);
}
END_TEST

int main(void)
{
	const struct check_test core[] = {
	    {test_ten_thousand_by_every_key},
	    {test_dtls_rekey},
	    {test_no_stale_entry_after_free},
	    {test_session_reuse},
	    {test_holding_room},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"core", setup, teardown, 60, core},
	    {NULL},
	};

	return check_main("worker_index", cases);
}
