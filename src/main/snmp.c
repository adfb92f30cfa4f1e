/* Starting sluice-snmp (an auxiliary process, aux_proc.c) with fd 3: its end of a
 * socketpair that main serves as a read-only control connection, and the run-as-user's
 * ids to drop to before it initialises net-snmp. It links net-snmp so that main does
 * not: a bug in an SNMP or AgentX parser then runs in an unprivileged process that can
 * only read what `sluicectl show status` and `show users` print. */
#include "config.h"

#include "main/snmp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "main/aux_proc.h"
#include "main/ctl.h"
#include "main/main.h"

static pid_t start_subagent(struct aux_proc *a)
{
	const struct sluice_config *cfg = a->m->cfg;
	char uid[16], gid[16];
	char *argv[9] = {"sluice-snmp", "--agentx", cfg->snmp_agentx, "--uid", uid, "--gid", gid};
	int argc = 7, sv[2];
	pid_t pid;

	if (a->m->foreground)
		argv[argc++] = "--stderr";
	argv[argc] = NULL;
	snprintf(uid, sizeof(uid), "%u", (unsigned)cfg->uid);
	snprintf(gid, sizeof(gid), "%u", (unsigned)cfg->gid);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_err("sluice-snmp: socketpair: %s", strerror(errno));
		return -1;
	}
	pid = aux_spawn(a, argv, &sv[1], 1);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -1;
	}
	/* main's end never blocks main: replies are streamed while the socket takes them. */
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 ||
	    main_ctl_conn_add_child(a->m, sv[0], (uint32_t)cfg->uid, CTL_PEER_SNMP) < 0) {
		log_err("sluice-snmp: cannot serve its connection; ending it");
		kill(pid, SIGTERM);
		return pid; /* its exit schedules the next try */
	}
	log_info("sluice-snmp started (pid %d, AgentX %s)", (int)pid, cfg->snmp_agentx);
	return pid;
}

int main_snmp_start(struct main_ctx *m)
{
	if (!m->cfg->snmp_agentx)
		return 0;
	m->snmp = aux_proc_new(m, m, "sluice-snmp", start_subagent, NULL);
	return m->snmp ? 0 : -ENOMEM;
}

void main_snmp_stop(struct main_ctx *m)
{
	aux_proc_stop(m->snmp);
}

bool main_snmp_child_exited(struct main_ctx *m, pid_t pid, int status)
{
	return aux_proc_exited(m->snmp, pid, status);
}
