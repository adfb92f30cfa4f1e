/* sluicectl: one command per file (cmd_*.c), one table (commands.c) that dispatches
 * and prints the help, and the client side of the control socket (client.c). */
#ifndef SLUICE_CTL_H
#define SLUICE_CTL_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctl/exchange.h"
#include "ctl/json.h"
#include "ipc/ctl.pb-c.h"

/* Exit codes scripts rely on. */
#define CTL_OK    0
#define CTL_ERROR 1
#define CTL_USAGE 2

struct ctl_opts {
	const char *socket_file;
	bool json;
	bool debug; /* --debug: the exchange with sluiced on stderr */
};

#define CTL_MAX_WORDS 4 /* "show ip ban points" */

struct ctl_command {
	const char *words[CTL_MAX_WORDS]; /* NULL-terminated when shorter */
	const char *arg;                  /* name of the one argument, or NULL */
	const char *help;
	int (*run)(const struct ctl_opts *o, const char *arg);
};

extern const struct ctl_command ctl_show_iroutes, ctl_show_status, ctl_show_users, ctl_show_user, ctl_show_id,
    ctl_show_events, ctl_disconnect_user, ctl_disconnect_id, ctl_stop, ctl_reload, ctl_show_ip_bans,
    ctl_show_ip_ban_points, ctl_unban_ip, ctl_show_sec_sessions, ctl_show_sec_session,
    ctl_show_cookies;

/* commands.c */
extern const struct ctl_command *const ctl_commands[];
extern const size_t ctl_n_commands;
/* Runs the command that argv names. Returns an exit code. */
int ctl_dispatch(const struct ctl_opts *o, int argc, char **argv);
void ctl_help(FILE *f);

/* client.c: sends one request and handles the replies until CTL_DONE (or, for a
 * stream, until interrupted). Prints why it failed and returns CTL_ERROR, or CTL_OK. */
int ctl_request(const struct ctl_opts *o, uint16_t type, const ProtobufCMessage *req,
		struct ctl_reply *r);
/* Parses a worker id; false when it is not a positive 32-bit number. */
bool ctl_parse_id(const char *s, uint32_t *id);

/* show ip bans / show ip ban points: the addresses main lists, as a table. */
int ctl_show_bans(const struct ctl_opts *o, uint16_t type);
/* output.c: one record (a JSON object of json.c) printed as JSON or as aligned
 * "key: value" lines (raw_* keys are for scripts only); lists as a JSON array or a table. */
void ctl_print_record(const struct ctl_opts *o, json_t *obj);
/* Several records in detail (a JSON array with --json, as occtl prints them). */
void ctl_print_records(const struct ctl_opts *o, json_t *array);
void ctl_print_table(const struct ctl_opts *o, json_t *array, const char *const *cols,
		     const char *const *heads);
void ctl_print_json(json_t *v);
/* show user / show id: the sessions a request selects, each in detail. */
int ctl_show_sessions(const struct ctl_opts *o, uint16_t type, const ProtobufCMessage *req);
/* The common reply of a state-changing command. */
int ctl_print_done(const struct ctl_opts *o, const struct ctl_reply *r, const char *what);

#endif
