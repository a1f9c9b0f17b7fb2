/**
 * How a site's load balancer tells the one writable DB server, as pure renderers: the check HAProxy
 * runs per server (its external check, every second, killed after one second), and a watcher beside
 * it that finds the newest primary among all the DB servers.
 *
 * Why two parts: every promotion starts a new timeline, so a former primary that comes back writable
 * (its site was lost and an operator promoted a replica elsewhere) writes on an earlier timeline than
 * the real primary, whatever this load balancer's own, possibly stale, configuration says. Asking
 * every server across sites takes longer than HAProxy's one-second budget on a WAN, so the watcher
 * asks them at its own pace and leaves its verdict in a file; the check asks only its own server
 * (fast) and fails it when the verdict names another one on a later timeline. With `balance first`
 * (haproxy.cfg), two servers that both pass still never take sessions at once through one balancer.
 * A server the watcher cannot reach proves nothing; without a fresh verdict the check still passes
 * only a server that accepts writes, as before.
 */
import { PRIMARY_TIMELINE_SQL } from "../postgres/fence";
import { shellQuote } from "../shell";

const HEADER = "Rendered by zabbix-ha; `pulumi up` overwrites local edits.";

export const PRIMARY_CHECK = "/etc/haproxy/pg-is-primary";
export const PRIMARY_CHECK_PASSFILE = "/etc/haproxy/pg-check.pgpass";
export const NEWEST_PRIMARY_WATCH = "/usr/local/libexec/zabbix-ha/newest-primary-watch";
export const NEWEST_PRIMARY_UNIT = "zabbix-ha-newest-primary.service";
/** The watcher's verdict, `address:port timeline` of the newest writable server (or ` 0`: none seen). */
export const NEWEST_PRIMARY_VERDICT = "/run/zabbix-ha-lb/newest-primary";
/** A verdict older than this is ignored (the watcher stopped): the check falls back to its own server's answer. */
export const VERDICT_FRESH_SECONDS = 10;

export interface PrimaryCheckInput {
    /** Role the check logs in as; it needs no privilege beyond connecting. */
    readonly user: string;
    /** .pgpass file readable by the haproxy user only. */
    readonly passfile: string;
    /** Where the watcher leaves its verdict. */
    readonly verdictFile: string;
}

/** HAProxy's external check: the server's address and port arrive as $3 and $4; exit 0 marks it up. */
export function renderPrimaryCheckScript(c: PrimaryCheckInput): string {
    return `#!/bin/sh
# ${HEADER}
# Exit 0 only when the server at $3:$4 accepts writes and the newest-primary watcher has not seen
# another server accept writes on a later timeline: a replica, or a superseded primary, fails.
PGPASSFILE=${shellQuote(c.passfile)}
PGCONNECT_TIMEOUT=2
export PGPASSFILE PGCONNECT_TIMEOUT
answer=$(psql -X -q -t -A -w -h "$3" -p "$4" -U ${shellQuote(c.user)} -d postgres -c ${shellQuote(PRIMARY_TIMELINE_SQL)} 2>/dev/null) || exit 1
# Empty on a standby; else the timeline this server writes on, in hex.
[ -n "$answer" ] || exit 1
verdict=${shellQuote(c.verdictFile)}
if [ -n "$(find "$verdict" -newermt "@$(( $(date +%s) - ${VERDICT_FRESH_SECONDS} ))" 2>/dev/null)" ]; then
  read -r newest timeline < "$verdict" || true
  if [ -n "\${newest:-}" ] && [ "$newest" != "$3:$4" ] && [ "\${timeline:-0}" -gt "$(printf '%d' "0x$answer")" ]; then exit 1; fi
fi
exit 0
`;
}

export interface NewestPrimaryWatchInput extends Omit<PrimaryCheckInput, "verdictFile"> {
    /** Every DB server, `address:port`, the configured primary first (it wins a tie of timelines). */
    readonly servers: readonly string[];
    readonly verdictFile: string;
    /** Seconds a server may take to answer (a WAN, TLS and SCRAM take a few round trips). */
    readonly answerSeconds?: number;
}

export function renderNewestPrimaryWatch(c: NewestPrimaryWatchInput): string {
    return `#!/bin/sh
# ${HEADER}
# Twice a second: which DB server accepts writes on the latest timeline. Every server is asked at
# once, each bounded in time; the verdict is replaced atomically for the HAProxy check to read.
set -u
PGPASSFILE=${shellQuote(c.passfile)}
PGCONNECT_TIMEOUT=2
export PGPASSFILE PGCONNECT_TIMEOUT
SERVERS=${shellQuote(c.servers.join(" "))}
verdict=${shellQuote(c.verdictFile)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 0' INT TERM
while :; do
  i=0
  for server in $SERVERS; do
    i=$((i + 1))
    timeout ${c.answerSeconds ?? 3} psql -X -q -t -A -w -h "\${server%:*}" -p "\${server##*:}" -U ${shellQuote(c.user)} -d postgres \\
      -c ${shellQuote(PRIMARY_TIMELINE_SQL)} >"$work/$i" 2>/dev/null || : >"$work/$i" &
  done
  wait
  newest=""
  latest=0
  i=0
  for server in $SERVERS; do
    i=$((i + 1))
    answer=$(cat "$work/$i")
    case "$answer" in
      [0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F])
        # A strictly later timeline wins; on a tie the one listed first (the configured primary) stays.
        if [ "$(printf '%d' "0x$answer")" -gt "$latest" ]; then newest=$server; latest=$(printf '%d' "0x$answer"); fi ;;
    esac
  done
  printf '%s %s\\n' "$newest" "$latest" >"$verdict.tmp" && mv -f "$verdict.tmp" "$verdict"
  sleep 0.5
done
`;
}

/** The watcher runs as haproxy (it reads the check role's .pgpass), its verdict in a runtime directory. */
export function renderNewestPrimaryUnit(): string {
    return `# ${HEADER}
[Unit]
Description=zabbix-ha: which DB server is the newest primary, for HAProxy's DB check
After=network-online.target
Before=haproxy.service

[Service]
User=haproxy
Group=haproxy
RuntimeDirectory=${NEWEST_PRIMARY_VERDICT.split("/")[2]}
RuntimeDirectoryMode=0755
ExecStart=${NEWEST_PRIMARY_WATCH}
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
`;
}
