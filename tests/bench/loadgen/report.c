/* What the run did: progress lines on stderr while it runs, and the final report as
 * plain text or JSON (only numbers and fixed names, so printf makes valid JSON). */
#include "config.h"
#include "loadgen.h"

#include <stdio.h>
#include <stdlib.h>

void stats_latency(struct loadgen *lg, double ms)
{
	struct stats *st = &lg->st;

	if (st->n_latency < st->max_latency)
		st->latency_ms[st->n_latency++] = ms;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted latencies; 0 without any. */
static double percentile(const struct stats *st, double p)
{
	size_t rank;

	if (st->n_latency == 0)
		return 0;
	rank = (size_t)(p / 100. * (double)st->n_latency + 0.999999);
	if (rank < 1)
		rank = 1;
	return st->latency_ms[(rank > st->n_latency ? st->n_latency : rank) - 1];
}

static unsigned failed_total(const struct stats *st)
{
	unsigned n = 0;

	for (int i = 0; i < F_COUNT; i++)
		n += st->failed[i];
	return n;
}

void report_progress(struct loadgen *lg)
{
	ev_tstamp now = ev_now(lg->loop), dt = now - lg->last_progress;
	const struct stats *st = &lg->st;

	fprintf(stderr,
		"loadgen: t=%.0fs started=%u established=%u held=%u failed=%u rate=%.1f/s "
		"pings=%llu/%llu sockets=%u\n",
		now - lg->t0, st->started, st->established, st->held, failed_total(st),
		dt > 0 ? (st->established - lg->last_established) / dt : 0.,
		(unsigned long long)st->pings_answered, (unsigned long long)st->pings_sent,
		lg->open);
	lg->last_established = st->established;
	lg->last_progress = now;
}

static void report_text(struct loadgen *lg, FILE *out, ev_tstamp elapsed)
{
	const struct stats *st = &lg->st;

	fprintf(out, "sessions target       %u\n", lg->opt.sessions);
	fprintf(out, "attempts started      %u (retries %u)\n", st->started, st->retries);
	fprintf(out, "established           %u\n", st->established);
	fprintf(out, "held at the end       %u (peak %u)\n", st->held_at_end, st->peak_held);
	fprintf(out, "last established at   %.1f s\n", st->ramp_s);
	fprintf(out, "logged out            %u\n", st->logged_out);
	fprintf(out, "failed                %u\n", failed_total(st));
	for (int i = 0; i < F_COUNT; i++)
		fprintf(out, "  %-19s %u\n", fail_names[i], st->failed[i]);
	fprintf(out, "login latency ms      p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  (n=%zu)\n",
		percentile(st, 50), percentile(st, 90), percentile(st, 99), percentile(st, 100),
		st->n_latency);
	fprintf(out, "pings                 sent %llu  answered %llu\n",
		(unsigned long long)st->pings_sent, (unsigned long long)st->pings_answered);
	if (lg->opt.dtls)
		fprintf(out, "dtls                  up %u  failed %u\n", st->dtls_up,
			st->dtls_failed);
	fprintf(out, "duration s            %.1f\n", elapsed);
}

static void report_json(struct loadgen *lg, FILE *out, ev_tstamp elapsed)
{
	const struct stats *st = &lg->st;

	fprintf(out,
		"{\"target\":%u,\"started\":%u,\"retries\":%u,\"established\":%u,\"held\":%u,"
		"\"peak_held\":%u,\"logged_out\":%u,\"failed\":%u,\"failures\":{",
		lg->opt.sessions, st->started, st->retries, st->established, st->held_at_end,
		st->peak_held, st->logged_out, failed_total(st));
	for (int i = 0; i < F_COUNT; i++)
		fprintf(out, "%s\"%s\":%u", i ? "," : "", fail_names[i], st->failed[i]);
	fprintf(out,
		"},\"latency_ms\":{\"n\":%zu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
		"\"max\":%.3f},\"pings\":{\"sent\":%llu,\"answered\":%llu},"
		"\"dtls\":{\"enabled\":%s,\"up\":%u,\"failed\":%u},\"ramp_s\":%.3f,"
		"\"duration_s\":%.3f}\n",
		st->n_latency, percentile(st, 50), percentile(st, 90), percentile(st, 99),
		percentile(st, 100), (unsigned long long)st->pings_sent,
		(unsigned long long)st->pings_answered, lg->opt.dtls ? "true" : "false",
		st->dtls_up, st->dtls_failed, st->ramp_s, elapsed);
}

void report_final(struct loadgen *lg, FILE *out)
{
	ev_tstamp elapsed = ev_now(lg->loop) - lg->t0;

	qsort(lg->st.latency_ms, lg->st.n_latency, sizeof(double), cmp_double);
	if (lg->opt.json)
		report_json(lg, out, elapsed);
	else
		report_text(lg, out, elapsed);
}
