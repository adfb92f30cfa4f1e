#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: the login form's group selector (select-group, default-select-group)
# with the real client's --authgroup. alice (groups eng and ops) chooses ops and gets
# that group with its per-group route; choosing DEFAULT gives her first group, eng;
# bob, who is in no group, is refused when he chooses eng.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
it_init
require_ctl

mkdir -p "$WORK/groups"
echo "route = 198.18.110.0/24" >"$WORK/groups/ops"
make_certs
add_user alice alice-pw eng,ops
add_user bob bob-pw
write_config "select-group = eng[Engineering]
select-group = ops
default-select-group = DEFAULT
config-per-group = $WORK/groups"
start_server

start_client c1 "$NS_C1" alice alice-pw --authgroup ops -v
ip1=$(wait_tunnel c1 15) || fail "no tunnel for alice in ops"
ctl --json show user alice | jq -e '.[0].Groupname == "ops"' >/dev/null ||
	fail "alice did not get the group she chose: $(ctl --json show user alice)"
grep -qF "X-CSTP-Split-Include: 198.18.110.0/24" "${CLIENT_LOG[c1]}" ||
	fail "alice did not get the route of the group she chose"
log "alice chose ops and got it ($ip1)"
stop_client c1

start_client c2 "$NS_C1" alice alice-pw --authgroup DEFAULT
wait_tunnel c2 15 >/dev/null || fail "no tunnel for alice with DEFAULT"
ctl --json show user alice | jq -e '.[0].Groupname == "eng"' >/dev/null ||
	fail "DEFAULT did not give alice her first group: $(ctl --json show user alice)"
log "DEFAULT gave alice her first group"
stop_client c2

get_cookie_group() {
	ip netns exec "$1" timeout 20 openconnect --authenticate --non-inter --passwd-on-stdin \
		--user "$2" --authgroup "$4" --servercert "$PIN" \
		"https://$(server_ip_for "$1"):$PORT/" <<<"$3" >/dev/null 2>>"$WORK/authenticate.log"
}
get_cookie_group "$NS_C2" bob bob-pw eng && fail "bob got in as a member of eng"
server_log_has "auth failed: user=bob .*reason=not a member of the selected group" 5 ||
	fail "no log of bob's refused group"
get_cookie_group "$NS_C2" bob bob-pw DEFAULT || fail "bob cannot log in with DEFAULT"
pass "select-group and default-select-group"
