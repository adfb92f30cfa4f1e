/* sluice-snmp's seccomp filter: one static table, default action kill, installed once
 * net-snmp has read what it reads at start-up and the subagent has first connected to
 * snmpd. What is left is its loop: the AgentX session (and a new one when snmpd comes
 * back), main's connection, timers. No file is opened, nothing is executed, no memory
 * becomes executable. The list is what test-snmp.sh's runs showed under strace (PDUs,
 * snmpd stopped and started again, main's replies), plus the TCP form of snmp-agentx. */
#include "config.h"

#include "snmp/snmp.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "common/sandbox_table.h"

static const struct sandbox_rule snmp_rules[] = {
    /* The loop: select over the AgentX socket and main's connection. */
    ALLOW(select),
    ALLOW(pselect6),
    ALLOW(poll),
    ALLOW(ppoll),
    /* AgentX PDUs (net-snmp reads with recvfrom, writes with sendto and write) and
     * main's SEQPACKET messages. */
    ALLOW(read),
    ALLOW(write),
    ALLOW(recvfrom),
    ALLOW(sendto),
    ALLOW(recvmsg),
    ALLOW(sendmsg),
    ALLOW(getsockname),
    ALLOW(getpeername),
    ALLOW(getsockopt),
    ALLOW(close),
    /* A new AgentX session when snmpd comes back: a Unix or TCP stream socket. */
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_UNIX, 0),
	     ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_STREAM)),
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_INET, 0),
	     ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_STREAM)),
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_INET6, 0),
	     ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_STREAM)),
    /* syslog() without -f: datagram Unix sockets to /dev/log. */
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_UNIX, 0),
	     ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_DGRAM)),
    ALLOW(connect),
    ALLOW(setsockopt),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_GETFL, 0)),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_SETFL, 0)),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_SETFD, 0)),
    /* Memory (net-snmp's PDUs and the session table); never executable. */
    ALLOW(brk),
    ALLOW_IF(mmap, ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
    ALLOW(munmap),
    ALLOW(mremap),
    /* Clocks (the vDSO's fallbacks), the process id in log lines and PDUs. */
    ALLOW(clock_gettime),
    ALLOW(gettimeofday),
    ALLOW(time),
    ALLOW(getpid),
    ALLOW(getrandom),
    /* The SIGTERM handler's return, masks, and the end. */
    ALLOW(rt_sigreturn),
    ALLOW(rt_sigprocmask),
    ALLOW(exit_group),
    ALLOW(exit),
    ALLOW(gettid),
    ALLOW_TO_SELF(tgkill, 1u << 0 | 1u << 1),
    /* Read-only opens and stats are probes (glibc's time zone, a MIB directory): refused
     * quietly. An open that could write kills. */
    FAIL_IF(openat, EACCES, ARG(2, SCMP_CMP_MASKED_EQ, OPEN_WRITE_FLAGS, 0)),
    FAIL_IF(newfstatat, EACCES),
    FAIL_IF(lseek, ESPIPE),

    SANITIZER_RULES
};

int snmp_sandbox_install(void)
{
	int ret = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);

	/* template_limits() set no-new-privs in its place in the start-up order. */
	if (ret != 1)
		return ret < 0 ? -errno : -EPERM;
	return sandbox_table_load(snmp_rules, sizeof(snmp_rules) / sizeof(snmp_rules[0]));
}
