/* SLUICE-MIB's objects (doc/SLUICE-MIB.txt) on net-snmp's agent helpers: one handler for
 * the scalar group, and a table iterator over the cache's rows, which are sorted by
 * session id. Both read the cache only; the iterator's first call refreshes it, so
 * the rows a request was matched against are the rows its values come from. */
#include "config.h"

#include "snmp/snmp.h"

#include <string.h>
#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "common/log.h"

/* enterprises.32473 is IANA's example enterprise number (RFC 5612), a placeholder
 * until sluice has a Private Enterprise Number of its own. */
#define SLUICE_MIB 1, 3, 6, 1, 4, 1, 32473, 1
static const oid server_oid[] = {SLUICE_MIB, 1, 1};
static const oid table_oid[] = {SLUICE_MIB, 1, 2};

enum { SERVER_STATUS = 1, SERVER_UPTIME, SESSIONS_ACTIVE, SESSIONS_TOTAL, BYTES_IN,
       BYTES_OUT, AUTH_FAILURES, BANNED, SERVER_LAST = BANNED };
enum { COL_USER = 2, COL_GROUP, COL_REMOTE_TYPE, COL_REMOTE, COL_VPN_IPV4, COL_DEVICE,
       COL_BYTES_IN, COL_BYTES_OUT, COL_SINCE, COL_LAST = COL_SINCE };
enum { STATUS_RUNNING = 1, STATUS_UNREACHABLE = 2 };
/* InetAddressType (INET-ADDRESS-MIB) */
enum { INET_UNKNOWN = 0, INET_IPV4 = 1, INET_IPV6 = 2 };

static void set_counter64(netsnmp_variable_list *v, uint64_t n)
{
	struct counter64 c = {.high = (u_long)(n >> 32), .low = (u_long)(n & 0xffffffffu)};

	snmp_set_var_typed_value(v, ASN_COUNTER64, &c, sizeof(c));
}

static void set_u32(netsnmp_variable_list *v, u_char type, uint64_t n)
{
	u_long x = n > 0xffffffffu ? 0xffffffffu : (u_long)n;

	snmp_set_var_typed_value(v, type, &x, sizeof(x));
}

static void set_int(netsnmp_variable_list *v, long n)
{
	snmp_set_var_typed_value(v, ASN_INTEGER, &n, sizeof(n));
}

static void set_text(netsnmp_variable_list *v, const char *s)
{
	snmp_set_var_typed_value(v, ASN_OCTET_STR, s, strlen(s));
}

/* DateAndTime (SNMPv2-TC) in UTC, with its explicit "+0:0" zone. */
static void set_date(netsnmp_variable_list *v, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	u_char d[11];

	if (!gmtime_r(&tt, &tm))
		memset(&tm, 0, sizeof(tm));
	d[0] = (u_char)((tm.tm_year + 1900) >> 8);
	d[1] = (u_char)((tm.tm_year + 1900) & 0xff);
	d[2] = (u_char)(tm.tm_mon + 1);
	d[3] = (u_char)tm.tm_mday;
	d[4] = (u_char)tm.tm_hour;
	d[5] = (u_char)tm.tm_min;
	d[6] = (u_char)(tm.tm_sec > 59 ? 59 : tm.tm_sec);
	d[7] = 0;
	d[8] = '+';
	d[9] = d[10] = 0;
	snmp_set_var_typed_value(v, ASN_OCTET_STR, d, sizeof(d));
}

static int server_handler(netsnmp_mib_handler *h, netsnmp_handler_registration *reg,
			  netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	const struct snmp_cache *c;

	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	c = snmp_cache_get();
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		netsnmp_variable_list *v = r->requestvb;
		int64_t up = c->up_since ? (int64_t)time(NULL) - c->up_since : 0;

		if (r->processed)
			continue;
		/* The scalar group's helper has checked the OID: sluiceServer.N.0. (reg is
		 * the instance's registration here, not the group's.) */
		switch (v->name[v->name_length - 2]) {
		case SERVER_STATUS:
			set_int(v, c->reachable ? STATUS_RUNNING : STATUS_UNREACHABLE);
			break;
		case SERVER_UPTIME: /* TimeTicks: hundredths, modulo 2^32 as the type says */
			set_u32(v, ASN_TIMETICKS, up > 0 ? ((uint64_t)up * 100) & 0xffffffffu : 0);
			break;
		case SESSIONS_ACTIVE:
			set_u32(v, ASN_GAUGE, c->active);
			break;
		case SESSIONS_TOTAL:
			set_counter64(v, c->total);
			break;
		case BYTES_IN:
			set_counter64(v, c->rx);
			break;
		case BYTES_OUT:
			set_counter64(v, c->tx);
			break;
		case AUTH_FAILURES:
			set_counter64(v, c->auth_failures);
			break;
		case BANNED:
			set_u32(v, ASN_GAUGE, c->banned);
			break;
		default:
			netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT);
		}
	}
	return SNMP_ERR_NOERROR;
}

static netsnmp_variable_list *next_row(void **loop, void **data, netsnmp_variable_list *index,
				       netsnmp_iterator_info *info)
{
	const struct snmp_cache *c = info->myvoid;
	uintptr_t i = (uintptr_t)*loop;

	if (i >= c->n_rows)
		return NULL;
	snmp_set_var_typed_integer(index, ASN_UNSIGNED, c->rows[i].id);
	*data = &c->rows[i];
	*loop = (void *)(i + 1);
	return index;
}

static netsnmp_variable_list *first_row(void **loop, void **data, netsnmp_variable_list *index,
					netsnmp_iterator_info *info)
{
	/* The one place that refreshes the table: see the top of this file. */
	info->myvoid = (void *)snmp_cache_get();
	*loop = (void *)0;
	return next_row(loop, data, index, info);
}

static int table_handler(netsnmp_mib_handler *h, netsnmp_handler_registration *reg,
			 netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		const struct snmp_row *row = netsnmp_extract_iterator_context(r);
		netsnmp_table_request_info *t = netsnmp_extract_table_info(r);
		netsnmp_variable_list *v = r->requestvb;

		if (r->processed)
			continue;
		if (!row || !t) {
			netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
			continue;
		}
		switch (t->colnum) {
		case COL_USER:
			set_text(v, row->user);
			break;
		case COL_GROUP:
			set_text(v, row->group);
			break;
		case COL_REMOTE_TYPE:
			set_int(v, row->remote_len == 4    ? INET_IPV4
				   : row->remote_len == 16 ? INET_IPV6
							   : INET_UNKNOWN);
			break;
		case COL_REMOTE:
			snmp_set_var_typed_value(v, ASN_OCTET_STR, row->remote, row->remote_len);
			break;
		case COL_VPN_IPV4:
			snmp_set_var_typed_value(v, ASN_OCTET_STR, row->ipv4, sizeof(row->ipv4));
			break;
		case COL_DEVICE:
			set_text(v, row->device);
			break;
		case COL_BYTES_IN:
			set_counter64(v, row->rx);
			break;
		case COL_BYTES_OUT:
			set_counter64(v, row->tx);
			break;
		case COL_SINCE:
			set_date(v, row->since);
			break;
		default:
			netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT);
		}
	}
	return SNMP_ERR_NOERROR;
}

static int register_server(void)
{
	netsnmp_handler_registration *reg = netsnmp_create_handler_registration(
	    "sluiceServer", server_handler, server_oid, OID_LENGTH(server_oid), HANDLER_CAN_RONLY);

	if (!reg || netsnmp_register_scalar_group(reg, SERVER_STATUS, SERVER_LAST) !=
			MIB_REGISTERED_OK)
		return -1;
	return 0;
}

static int register_table(void)
{
	netsnmp_handler_registration *reg = netsnmp_create_handler_registration(
	    "sluiceSessionTable", table_handler, table_oid, OID_LENGTH(table_oid),
	    HANDLER_CAN_RONLY);
	netsnmp_table_registration_info *t = SNMP_MALLOC_TYPEDEF(netsnmp_table_registration_info);
	netsnmp_iterator_info *it = SNMP_MALLOC_TYPEDEF(netsnmp_iterator_info);

	if (!reg || !t || !it)
		return -1;
	netsnmp_table_helper_add_indexes(t, ASN_UNSIGNED, 0);
	t->min_column = COL_USER;
	t->max_column = COL_LAST;
	it->get_first_data_point = first_row;
	it->get_next_data_point = next_row;
	it->table_reginfo = t;
	it->flags = NETSNMP_ITERATOR_FLAG_SORTED;
	if (netsnmp_register_table_iterator2(reg, it) != MIB_REGISTERED_OK)
		return -1;
	return 0;
}

int snmp_mib_register(void)
{
	if (register_server() < 0 || register_table() < 0) {
		log_err("cannot register SLUICE-MIB's objects");
		return -1;
	}
	return 0;
}
