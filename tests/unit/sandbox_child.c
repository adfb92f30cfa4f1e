#include "config.h"

#include "sandbox_child.h"

#include <check.h>
#include <ev.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

int child_run(void (*prepare)(int setup), int setup, void (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit no_core = {0, 0};

		CHILD_CHECK(setrlimit(RLIMIT_CORE, &no_core) == 0);
		if (prepare)
			prepare(setup);
		fn(arg);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

void assert_exited_ok(int status)
{
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child did not exit 0 (status 0x%x, signal %d)", status,
		      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

void assert_killed_by(int status, int sig)
{
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == sig,
		      "child was not killed by signal %d (status 0x%x)", sig, status);
}

bool is_root(void)
{
	return geteuid() == 0;
}

void probe_execve(void *arg)
{
	char *const argv[] = {"/bin/true", NULL};

	execve("/bin/true", argv, NULL);
}

void probe_fork(void *arg)
{
	fork();
}

void probe_mmap_exec(void *arg)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

void probe_sigaltstack_set(void *arg)
{
	static char stack[65536];
	stack_t ss = {.ss_sp = stack, .ss_size = sizeof(stack)};

	sigaltstack(&ss, NULL);
}

void probe_kill_parent(void *arg)
{
	kill(*(pid_t *)arg, 0);
}

#ifdef __x86_64__
void probe_x32_syscall(void *arg)
{
	syscall(0x40000000 | SYS_getpid);
}
#endif

void probe_abort(void *arg)
{
	abort();
}

void probe_libev_refresh(void *arg)
{
	ev_loop_fork(arg);
	ev_run(arg, EVRUN_NOWAIT);
}
