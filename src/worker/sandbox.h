/* The worker's seccomp filter: one static table in sandbox.c, default action kill. */
#ifndef SLUICE_SANDBOX_H
#define SLUICE_SANDBOX_H

/* Installs the filter for the calling (single-threaded) process. No-new-privs must
 * already be set (worker_limits()); the filter lets the process signal only itself, so
 * call it in the process that will run under it. Returns 0, -EPERM without
 * no-new-privs, or another -errno from libseccomp or the kernel (WEXIT_SECCOMP). A
 * process killed by the filter dies with SIGSYS. */
int sandbox_install(void);

#endif
