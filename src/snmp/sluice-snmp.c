/* sluice-snmp: SLUICE-MIB's AgentX subagent. main starts it when snmp-agentx is set
 * (src/main/snmp.c): fd 3 is its read-only control connection, --uid/--gid the
 * run-as-user's ids. Start-up order, fixed: drop root, no-new-privs and limits; only
 * then does net-snmp's code run and connect to the master agent; then the seccomp
 * filter (sandbox.c), before the loop that parses its PDUs.
 *
 * Usage (by main): sluice-snmp --agentx SOCKET --uid UID --gid GID [--stderr] */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "common/log.h"
#include "snmp/snmp.h"
#include "worker/privdrop.h"

#define MAIN_FD            3
/* How often the subagent checks its AgentX session: also how soon it reconnects after
 * snmpd restarts. */
#define AGENTX_PING_SECS   2

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static bool parse_id(const char *s, unsigned long *id)
{
	char *end;

	errno = 0;
	*id = strtoul(s ? s : "", &end, 10);
	return s && *s && !*end && !errno && *id > 0 && *id < 0xffffffffUL;
}

/* net-snmp's own configuration and state files are not read or written: what the
 * subagent does is fixed by its command line, and it may write no file. */
static void agent_setup(const char *agentx)
{
	/* The subagent answers by number and translates nothing: no MIB files are read. */
	setenv("MIBS", "", 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, agentx);
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
			   AGENTX_PING_SECS);
}

/* agent_check_and_process() with main's connection in the same select(): a close by
 * main ends the subagent, which has nothing left to serve. */
static void run(void)
{
	while (!stop && !snmp_cache_main_gone()) {
		int nfds = 0, block = 0, n;
		fd_set fds;
		struct timeval tv = {.tv_sec = 1}, tick = {.tv_sec = 1};

		FD_ZERO(&fds);
		snmp_select_info(&nfds, &fds, &tv, &block);
		/* At least once a second: the stop flag, and alarms (the AgentX ping). */
		if (block || timercmp(&tv, &tick, >))
			tv = tick;
		FD_SET(MAIN_FD, &fds);
		if (nfds <= MAIN_FD)
			nfds = MAIN_FD + 1;
		n = select(nfds, &fds, NULL, NULL, &tv);
		if (n < 0 && errno != EINTR) {
			log_err("select: %s", strerror(errno));
			break;
		}
		if (n > 0 && FD_ISSET(MAIN_FD, &fds)) {
			FD_CLR(MAIN_FD, &fds);
			snmp_cache_readable();
			n--;
		}
		if (n > 0)
			snmp_read(&fds);
		else if (n == 0)
			snmp_timeout();
		run_alarms();
		netsnmp_check_outstanding_agent_requests();
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"agentx", required_argument, NULL, 'a'}, {"uid", required_argument, NULL, 'u'},
	    {"gid", required_argument, NULL, 'g'},    {"stderr", no_argument, NULL, 'e'},
	    {NULL, 0, NULL, 0},
	};
	const char *agentx = NULL, *uid_s = NULL, *gid_s = NULL;
	struct sigaction sa = {.sa_handler = on_signal};
	unsigned long uid, gid;
	bool to_stderr = false;
	struct stat st;
	int c, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': agentx = optarg; break;
		case 'u': uid_s = optarg; break;
		case 'g': gid_s = optarg; break;
		case 'e': to_stderr = true; break;
		default: return 2;
		}
	}
	log_init("sluice-snmp", to_stderr, LOG_INFO);
	if (!agentx || !parse_id(uid_s, &uid) || !parse_id(gid_s, &gid) || optind != argc ||
	    fstat(MAIN_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		log_err("usage: sluice-snmp --agentx SOCKET --uid UID --gid GID [--stderr], with "
			"fd %d connected to sluiced (sluiced starts it when snmp-agentx is set)",
			MAIN_FD);
		return 2;
	}
	/* Before net-snmp runs: an AgentX parser bug must find no root to use. */
	ret = privdrop((uid_t)uid, (gid_t)gid);
	if (ret == 0)
		ret = template_limits();
	if (ret < 0) {
		log_err("cannot drop privileges to uid %lu gid %lu: %s", uid, gid, strerror(-ret));
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	snmp_cache_init(MAIN_FD);

	if (to_stderr)
		snmp_enable_stderrlog();
	else
		snmp_enable_syslog_ident("sluice-snmp", LOG_DAEMON);
	agent_setup(agentx);
	if (init_agent("sluice-snmp") != 0) {
		log_err("net-snmp's agent library did not start");
		return 1;
	}
	if (snmp_mib_register() < 0)
		return 1;
	init_snmp("sluice-snmp");
	/* Again: init_snmp() sets its defaults over the one given before it. */
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
			   AGENTX_PING_SECS);
	log_notice("serving SLUICE-MIB through the AgentX master at %s", agentx);
	/* net-snmp has read what it reads; from here on the loop is all there is. */
	tzset();
	ret = snmp_sandbox_install();
	if (ret < 0) {
		log_err("cannot install the seccomp filter: %s", strerror(-ret));
		return 1;
	}
	run();
	snmp_shutdown("sluice-snmp");
	return 0;
}
