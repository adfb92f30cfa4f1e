/* auto-select-group: the login form's group choices are the groups the authentication
 * backend knows, as ocserv lists them: with plain, the groups named in the password file;
 * with pam, the system's groups whose gid is at least pam[gid-min]. main lists them at
 * start-up and on every reload, since it builds each worker's form (MW_INIT) before any
 * user is known; sec still grants only a group the user is a member of. */
#ifndef SLUICE_GROUPS_H
#define SLUICE_GROUPS_H

#include <stddef.h>

/* As select-group holds at most (config_schema.c). */
#define AUTO_GROUPS_MAX 128

struct main_auto_groups {
	char **names;
	size_t n;
};

struct main_ctx;
/* Lists the groups of m->cfg's auth into m->auto_groups, or sets it NULL when
 * auto-select-group is off or auth has no list (select-group's choices apply). A password
 * file that cannot be read leaves the list made before, with a warning. */
void main_auto_groups_load(struct main_ctx *m);

#endif
