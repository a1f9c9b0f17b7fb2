/**
 * How a site's load balancer lets only the newest DB primary take sessions, as pure renderers: the
 * check HAProxy runs per server (its external check, every second, killed after one second), and a
 * watcher beside HAProxy that decides which server may take sessions at all.
 *
 * Why a watcher: every promotion starts a new timeline, so a former primary that comes back writable
 * (its site was lost and an operator promoted a replica elsewhere) writes on an earlier timeline than
 * the real primary, whatever this load balancer's own, possibly stale, configuration says. Telling
 * them apart means asking every server, across sites, which takes longer than HAProxy's one-second
 * check on a WAN; and HAProxy starts (and reloads) with every server up until its first check, which
 * would hand a superseded primary sessions for a moment. So the DB servers start in maintenance
 * (haproxy.cfg), and the watcher, twice a second, asks every server and sets the one that accepts
 * writes on the latest timeline ready and every other server that answered to maintenance, through
 * HAProxy's admin socket; a server it cannot reach proves nothing and is left as it is. The check
 * then only confirms that the ready server still accepts writes. With `balance first`, one balancer
 * never hands sessions to two servers at once.
 */
import { PRIMARY_TIMELINE_SQL } from "../postgres/fence";
import { shellQuote } from "../shell";
import type { Backend } from "./render";

const HEADER = "Rendered by zabbix-ha; `pulumi up` overwrites local edits.";

export const PRIMARY_CHECK = "/etc/haproxy/pg-is-primary";
export const PRIMARY_CHECK_PASSFILE = "/etc/haproxy/pg-check.pgpass";
export const NEWEST_PRIMARY_WATCH = "/usr/local/libexec/zabbix-ha/newest-primary-watch";
export const NEWEST_PRIMARY_UNIT = "zabbix-ha-newest-primary.service";
/** HAProxy's section of the DB port, whose servers the watcher sets ready or in maintenance. */
export const DB_PROXY = "postgres_primary";

export interface PrimaryCheckInput {
    /** Role the check logs in as; it needs no privilege beyond connecting. */
    readonly user: string;
    /** .pgpass file readable by the haproxy user only. */
    readonly passfile: string;
}

/** HAProxy's external check: the server's address and port arrive as $3 and $4; exit 0 marks it up. */
export function renderPrimaryCheckScript(c: PrimaryCheckInput): string {
    return `#!/bin/sh
# ${HEADER}
# Exit 0 only when the server at $3:$4 accepts writes: a replica answers "t". (Which writable server
# may take sessions at all is the newest-primary watcher's decision.)
PGPASSFILE=${shellQuote(c.passfile)}
PGCONNECT_TIMEOUT=2
export PGPASSFILE PGCONNECT_TIMEOUT
answer=$(psql -X -q -t -A -w -h "$3" -p "$4" -U ${shellQuote(c.user)} -d postgres -c 'select pg_is_in_recovery()' 2>/dev/null) || exit 1
[ "$answer" = f ]
`;
}

export interface NewestPrimaryWatchInput extends PrimaryCheckInput {
    /** Every DB server of the DB port, the configured primary first (it wins a tie of timelines). */
    readonly servers: readonly Backend[];
    /** HAProxy's admin socket. */
    readonly adminSocket: string;
    /** Seconds a server may take to answer (a WAN, TLS and SCRAM take a few round trips). */
    readonly answerSeconds?: number;
}

export function renderNewestPrimaryWatch(c: NewestPrimaryWatchInput): string {
    const servers = c.servers.map(s => `${s.name}=${s.address}:${s.port}`).join(" ");
    return `#!/bin/sh
# ${HEADER}
# Twice a second: which DB server accepts writes on the latest timeline. Every server is asked at
# once, each bounded in time; that one is set ready in HAProxy, every other one that answered is set
# to maintenance, and one that did not answer is left as it is.
set -u
PGPASSFILE=${shellQuote(c.passfile)}
PGCONNECT_TIMEOUT=2
export PGPASSFILE PGCONNECT_TIMEOUT
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

/** The watcher runs as root: it reads the check role's .pgpass and HAProxy's admin socket. */
export function renderNewestPrimaryUnit(): string {
    return `# ${HEADER}
[Unit]
Description=zabbix-ha: only the newest DB primary takes sessions through HAProxy's DB port
After=haproxy.service

[Service]
ExecStart=${NEWEST_PRIMARY_WATCH}
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
`;
}
