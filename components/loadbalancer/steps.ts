/**
 * Pure step scripts of a site's load balancer (POSIX sh bodies for Host.step): HAProxy configured and
 * running, with the DB check's password and, for the query check, the newest-primary watcher. Safe
 * to run again: files are rewritten only when they change, and HAProxy reloads only then.
 */
import { SYSTEMD_UNIT_DIR } from "../platform";
import { pgpassLine } from "../postgres/pgpass";
import { CHECK_PASSFILE, CHECK_ROLE } from "../postgres/roles";
import { HOST_CLIENT_TLS } from "../postgres/tls";
import { putFile, putSecretFile } from "../shell";
import { HAPROXY_CONFIG, HaproxyInput, adminSocket, renderHaproxyCfg } from "./haproxyCfg";
import { renderNewestPrimaryUnit } from "./newestPrimaryUnit";
import { renderNewestPrimaryWatch } from "./newestPrimaryWatch";
import { NEWEST_PRIMARY_UNIT, NEWEST_PRIMARY_WATCH, PRIMARY_CHECK, renderPrimaryCheckScript } from "./primaryCheck";

/** What the load balancer's step installs. */
export interface HaproxyStepInput {
    /** haproxy.cfg's settings; with DB servers the step also installs what the DB check needs. */
    readonly haproxy: HaproxyInput;
    /** Shell variable holding the check role's password (read from stdin); used only with DB servers. */
    readonly checkPasswordVariable: string;
}

/**
 * The load balancer: the check role's .pgpass (with DB servers), the primary check and the
 * newest-primary watcher (with the query check; Patroni's REST API already names one leader),
 * haproxy.cfg checked and HAProxy running, and proof that it listens on each of its ports.
 */
export function haproxyStep(s: HaproxyStepInput): string {
    const c = s.haproxy;
    const withDb = c.dbServers.length > 0;
    // The newest-primary watcher serves the query check; Patroni's REST API already names one leader.
    const byQuery = withDb && c.dbCheck !== "patroni";
    return [
        ...(withDb
            ? [
                  putSecretFile(
                      CHECK_PASSFILE,
                      s.checkPasswordVariable,
                      "0600",
                      "haproxy:haproxy",
                      pgpassLine("*", "*", "postgres", CHECK_ROLE, `$${s.checkPasswordVariable}`),
                  ),
              ]
            : []),
        ...(byQuery
            ? [
                  putFile(
                      PRIMARY_CHECK,
                      renderPrimaryCheckScript({ user: CHECK_ROLE, passfile: CHECK_PASSFILE, tls: HOST_CLIENT_TLS }),
                      "0755",
                      "root:root",
                  ),
                  putFile(
                      NEWEST_PRIMARY_WATCH,
                      renderNewestPrimaryWatch({
                          user: CHECK_ROLE,
                          passfile: CHECK_PASSFILE,
                          tls: HOST_CLIENT_TLS,
                          servers: c.dbServers,
                          adminSocket: adminSocket(c.runDir),
                      }),
                      "0700",
                      "root:root",
                  ),
                  putFile(`${SYSTEMD_UNIT_DIR}/${NEWEST_PRIMARY_UNIT}`, renderNewestPrimaryUnit(), "0644", "root:root"),
                  `if [ "$ZHA_CHANGED" = 1 ]; then systemctl daemon-reload; systemctl enable ${NEWEST_PRIMARY_UNIT}; systemctl restart ${NEWEST_PRIMARY_UNIT}; fi`,
                  `systemctl is-active --quiet ${NEWEST_PRIMARY_UNIT} || systemctl enable --now ${NEWEST_PRIMARY_UNIT}`,
              ]
            : []),
        putFile(HAPROXY_CONFIG, renderHaproxyCfg(c), "0644", "root:root"),
        `haproxy -c -q -f ${HAPROXY_CONFIG}`,
        "systemctl enable haproxy",
        `if [ "$ZHA_CHANGED" = 1 ] || ! systemctl is-active --quiet haproxy; then systemctl reload-or-restart haproxy; fi`,
        // A reload whose new sockets cannot bind keeps the old worker running and still succeeds: prove the listeners.
        ...[c.httpPort, c.httpsPort, ...(withDb ? [c.dbPort] : [])].map(
            port =>
                `zha_retry 10 sh -c "ss -Hltn 'sport = :${port}' | grep -q LISTEN" || { echo "haproxy does not listen on port ${port}; is another service bound to it?" >&2; exit 1; }`,
        ),
    ].join("\n");
}

/** Undoes the load balancer (the host no longer balances its site): HAProxy and the watcher stop for good. */
export function haproxyStepDelete(): string {
    return [
        `echo "this host is no longer a load balancer: stopping HAProxy and the newest-primary watcher for good"`,
        `systemctl disable --now ${NEWEST_PRIMARY_UNIT} 2>/dev/null || true`,
        "systemctl disable --now haproxy",
        `rm -f ${NEWEST_PRIMARY_WATCH} ${SYSTEMD_UNIT_DIR}/${NEWEST_PRIMARY_UNIT} ${PRIMARY_CHECK} ${CHECK_PASSFILE}`,
        "systemctl daemon-reload",
    ].join("\n");
}
