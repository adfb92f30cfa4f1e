#include "config.h"

#include "common/session.h"

const char *session_end_reason_str(unsigned reason)
{
	switch (reason) {
	case END_USER_DISCONNECT:
		return "user disconnected";
	case END_CLIENT_CLOSED:
		return "connection closed";
	case END_IDLE_TIMEOUT:
		return "idle timeout";
	case END_DPD_TIMEOUT:
		return "DPD timeout";
	case END_SERVER_TERMINATE:
		return "server disconnected";
	case END_ERROR:
		return "error";
	case END_WORKER_DIED:
		return "worker died";
	case END_SESSION_REUSED:
		return "session re-used by a newer connection";
	case END_SESSION_TIMEOUT:
		return "session timeout";
	case END_QUOTA_EXCEEDED:
		return "quota exceeded";
	case END_SESSION_REPLACED:
		return "replaced by a newer login";
	default:
		return "unspecified";
	}
}

bool session_end_invalidates(unsigned reason)
{
	switch (reason) {
	case END_USER_DISCONNECT:
	case END_SERVER_TERMINATE:
	case END_SESSION_TIMEOUT:
	case END_QUOTA_EXCEEDED:
	case END_SESSION_REPLACED:
		return true;
	default:
		return false;
	}
}

bool session_quota_exceeded(uint64_t quota, uint64_t earlier, uint64_t current)
{
	if (!quota)
		return false;
	return earlier > quota || current > quota - earlier;
}

const char *worker_exit_str(int code)
{
	switch (code) {
	case WEXIT_OK:
		return "ok";
	case WEXIT_USAGE:
		return "started without sluiced";
	case WEXIT_INIT_MSG:
		return "bad start-up message";
	case WEXIT_TLS_INIT:
		return "TLS set-up failed";
	case WEXIT_PRIVDROP:
		return "privilege drop failed";
	case WEXIT_ROOT_REGAINED:
		return "root could be regained after the drop";
	case WEXIT_LIMITS:
		return "rlimit/prctl failed";
	case WEXIT_SECCOMP:
		return "seccomp filter failed";
	case WEXIT_IPC:
		return "IPC failure";
	case WEXIT_CLIENT:
		return "client protocol error or timeout";
	case WEXIT_TUNNEL:
		return "tunnel failure";
	default:
		return "unknown exit code";
	}
}
