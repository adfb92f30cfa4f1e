/* The records of main's control replies as JSON objects: what `sluicectl --json` prints
 * and what sluice-manage's API answers, from one set of builders (json.c). Keys are
 * occtl's where occtl has them; raw_* keys carry numbers for scripts. */
#ifndef SLUICE_CTL_JSON_H
#define SLUICE_CTL_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/ctl.pb-c.h"

json_t *ctl_status_json(const CtlStatus *s);
json_t *ctl_user_json(const CtlUser *u);
/* sec's sessions (cookies), occtl's keys; never the cookie itself. */
json_t *ctl_session_json(const CtlSession *s);
/* One banned or scored address. */
json_t *ctl_ban_json(const CtlBan *b);
/* One session start ("event": "connect") or end ("disconnect", with counters). */
json_t *ctl_event_json(const CtlEvent *e);
/* One user of the password file: name, groups, locked (never a hash). */
json_t *ctl_account_json(const CtlAccount *a);
/* A JSON array of strings. */
json_t *ctl_strings_json(char **items, size_t n);

void ctl_format_time(int64_t t, char *buf, size_t len);
/* A count of bytes as occtl writes it for people: "48 bytes", "1.5 KB", ... */
void ctl_format_bytes(uint64_t n, char *buf, size_t len);
/* A duration as occtl writes it: "5s", "3m:07s", "2h:05m", "4d:03h". */
void ctl_format_age(long long seconds, char *buf, size_t len);

#endif
