/* sluice-snmp, the AgentX subagent: main starts it, unprivileged, when snmp-agentx is
 * set, and serves it a read-only control connection. net-snmp's code never runs in
 * main; main only answers the subagent's requests, as it answers sluicectl's. */
#ifndef SLUICE_MAIN_SNMP_H
#define SLUICE_MAIN_SNMP_H

#include <stdbool.h>
#include <sys/types.h>

struct main_ctx;

/* Starts sluice-snmp if snmp-agentx is set (after main_ctl_start()). A subagent that
 * cannot start is logged and tried again later: SNMP never stops the VPN. 0 or -ENOMEM. */
int main_snmp_start(struct main_ctx *m);
/* Ends the subagent (SIGTERM) and restarts no more. */
void main_snmp_stop(struct main_ctx *m);
/* True if pid was the subagent: its exit is logged and it is restarted after a delay. */
bool main_snmp_child_exited(struct main_ctx *m, pid_t pid, int status);

#endif
