/**
 * The newest-primary watcher beside HAProxy (see primaryCheck.ts for why), a pure renderer: twice a
 * second it asks every DB server which one accepts writes on the latest timeline and sets that one
 * ready in HAProxy, every other one that answered in maintenance.
 */
import { PRIMARY_TIMELINE_SQL } from "../postgres/fence";
import { clientExport } from "../postgres/tls";
import { RENDERED_HEADER, shellQuote } from "../shell";
import { Backend, DB_PROXY } from "./haproxyCfg";
import { PrimaryCheckInput } from "./primaryCheck";

/** The watcher's DB servers and HAProxy socket, and how it logs in (as the check). */
export interface NewestPrimaryWatchInput extends PrimaryCheckInput {
    /** Every DB server of the DB port, the configured primary first (it wins a tie of timelines). */
    readonly servers: readonly Backend[];
    /** HAProxy's admin socket. */
    readonly adminSocket: string;
    /** Seconds a server may take to answer (a WAN, TLS and SCRAM take a few round trips). */
    readonly answerSeconds?: number;
}

/** The watcher script (NEWEST_PRIMARY_WATCH), run by its unit as root. */
export function renderNewestPrimaryWatch(c: NewestPrimaryWatchInput): string {
    const servers = c.servers.map(s => `${s.name}=${s.address}:${s.port}`).join(" ");
    return `#!/bin/sh
# ${RENDERED_HEADER}
# Twice a second: which DB server accepts writes on the latest timeline. Every server is asked at
# once, each bounded in time; that one is set ready in HAProxy, every other one that answered is set
# to maintenance, and one that did not answer is left as it is.
set -u
PGPASSFILE=${shellQuote(c.passfile)}
PGCONNECT_TIMEOUT=2
export PGPASSFILE PGCONNECT_TIMEOUT
${clientExport(c.tls)}
SERVERS=${shellQuote(servers)}
SOCKET=${shellQuote(c.adminSocket)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 0' INT TERM
# set_state NAME ready|maint, through HAProxy's admin socket (quiet when HAProxy is not up yet).
set_state() { echo "set server ${DB_PROXY}/$1 state $2" | socat -t 2 stdio "unix-connect:$SOCKET" >/dev/null 2>&1 || true; }
while :; do
  for entry in $SERVERS; do
    server=\${entry#*=}
    timeout ${c.answerSeconds ?? 3} psql -X -q -t -A -w -h "\${server%:*}" -p "\${server##*:}" -U ${shellQuote(c.user)} -d postgres \\
      -c ${shellQuote(PRIMARY_TIMELINE_SQL)} >"$work/\${entry%%=*}" 2>/dev/null || echo unreachable >"$work/\${entry%%=*}" &
  done
  wait
  newest=""
  latest=0
  for entry in $SERVERS; do
    answer=$(cat "$work/\${entry%%=*}")
    case "$answer" in
      [0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F])
        # A strictly later timeline wins; on a tie the one listed first (the configured primary) stays.
        if [ "$(printf '%d' "0x$answer")" -gt "$latest" ]; then newest=\${entry%%=*}; latest=$(printf '%d' "0x$answer"); fi ;;
    esac
  done
  for entry in $SERVERS; do
    name=\${entry%%=*}
    if [ "$name" = "$newest" ]; then
      set_state "$name" ready
    elif [ "$(cat "$work/$name")" != unreachable ]; then
      set_state "$name" maint
    fi
  done
  sleep 0.5
done
`;
}
