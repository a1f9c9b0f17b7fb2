import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { LOAD_BALANCER, LoadBalancerFacts } from "../facts";
import { Host } from "../host";
import { CHECK_ROLE, pgpassLine } from "../postgres/render";
import { putFile, putSecretFile } from "../shell";
import {
    NEWEST_PRIMARY_UNIT, NEWEST_PRIMARY_WATCH, PRIMARY_CHECK, PRIMARY_CHECK_PASSFILE,
    renderNewestPrimaryUnit, renderNewestPrimaryWatch, renderPrimaryCheckScript,
} from "./primaryCheck";
import { Backend, renderHaproxyCfg } from "./render";

export const HAPROXY_CONFIG = "/etc/haproxy/haproxy.cfg";
export const HAPROXY_RUN_DIR = "/run/haproxy";

/**
 * SiteLoadBalancerArgs describe the HAProxy of one site.
 */
export interface SiteLoadBalancerArgs {
    /** The site's lb host. */
    readonly host: Host;
    /** HTTP port the Zabbix UI is served on. */
    readonly httpPort: number;
    /** Frontends of this site, which take the UI traffic. */
    readonly localFrontends: readonly Backend[];
    /** Frontends of the other sites, used only when none of this site's is up. */
    readonly remoteFrontends: readonly Backend[];
    /** Port that forwards to the read-write PostgreSQL primary. */
    readonly dbPort: number;
    /**
     * Every DB host of the cluster, the configured primary first; the check passes only the newest
     * primary. Empty: no DB port (a managed endpoint).
     */
    readonly dbServers: readonly Backend[];
    /** Addresses and networks allowed to use the DB port (cluster hosts, the admin network). */
    readonly dbAllowedSources: readonly string[];
    /** Password of the check role that asks each DB host `pg_is_in_recovery()`; a secret. Needed with DB servers. */
    readonly checkPassword?: pulumi.Input<string>;
    /** `patroni` when Patroni moves the primary: the DB port then follows its REST API's /primary. */
    readonly dbCheck?: "query" | "patroni";
}

/**
 * SiteLoadBalancer is a site's own HAProxy: the entry point for the site's users (the UI) and for
 * the site's Zabbix servers and frontends (the database). Each site has its own, so no VIP has to
 * span sites; its DB port follows the primary by role, never by a fixed address.
 */
export class SiteLoadBalancer extends pulumi.ComponentResource {
    /** The lb host. */
    public readonly host: Host;
    /** Address clients of this site use. */
    public readonly address: string;
    public readonly httpPort: number;
    public readonly dbPort: number;
    /** The step that configures and (re)starts HAProxy. */
    public readonly configured: command.remote.Command;
    /** What it declares: where it sits, how its DB port finds the primary, its backends. */
    public readonly facts: LoadBalancerFacts;

    constructor(name: string, args: SiteLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
        const facts: LoadBalancerFacts = {
            site: args.host.config.site,
            host: args.host.config.name,
            address: args.host.config.address,
            // How the DB port picks its server: by asking each one pg_is_in_recovery(), never a fixed address.
            dbRouting: args.dbServers.length === 0 ? "none" : args.dbCheck === "patroni" ? "patroni-rest" : "primary-check",
            dbPort: args.dbPort,
            dbServers: args.dbServers.map(b => b.name),
            localFrontends: args.localFrontends.map(b => b.name),
            remoteFrontends: args.remoteFrontends.map(b => b.name),
        };
        super(LOAD_BALANCER.token, name, facts, opts);
        this.facts = facts;
        this.host = args.host;
        this.address = args.host.config.address;
        this.httpPort = args.httpPort;
        this.dbPort = args.dbPort;
        const cfg = renderHaproxyCfg({
            site: args.host.config.site,
            httpPort: args.httpPort,
            localFrontends: args.localFrontends,
            remoteFrontends: args.remoteFrontends,
            dbPort: args.dbPort,
            dbServers: args.dbServers,
            dbAllowedSources: args.dbAllowedSources,
            primaryCheckCommand: PRIMARY_CHECK,
            runDir: HAPROXY_RUN_DIR,
            runAs: "haproxy",
            dbCheck: args.dbCheck,
        });
        const withDb = args.dbServers.length > 0;
        // The newest-primary watcher serves the query check; Patroni's REST API already names one leader.
        const byQuery = withDb && args.dbCheck !== "patroni";
        if (withDb && args.checkPassword === undefined) {
            throw new Error(`${name}: a load balancer with DB servers needs the check role's password`);
        }
        this.configured = args.host.step(`${name}-haproxy`, {
            secrets: withDb ? [{ variable: "CHECK_PASSWORD", value: args.checkPassword! }] : [],
            script: [
                ...(withDb ? [
                    putSecretFile(PRIMARY_CHECK_PASSFILE, "CHECK_PASSWORD", "0600", "haproxy:haproxy",
                        pgpassLine("*", "*", "postgres", CHECK_ROLE, "$CHECK_PASSWORD")),
                ] : []),
                ...(byQuery ? [
                    putFile(PRIMARY_CHECK, renderPrimaryCheckScript({ user: CHECK_ROLE, passfile: PRIMARY_CHECK_PASSFILE }), "0755", "root:root"),
                    putFile(NEWEST_PRIMARY_WATCH, renderNewestPrimaryWatch({
                        user: CHECK_ROLE, passfile: PRIMARY_CHECK_PASSFILE, servers: args.dbServers, adminSocket: `${HAPROXY_RUN_DIR}/admin.sock`,
                    }), "0700", "root:root"),
                    putFile(`/etc/systemd/system/${NEWEST_PRIMARY_UNIT}`, renderNewestPrimaryUnit(), "0644", "root:root"),
                    `if [ "$ZHA_CHANGED" = 1 ]; then systemctl daemon-reload; systemctl enable ${NEWEST_PRIMARY_UNIT}; systemctl restart ${NEWEST_PRIMARY_UNIT}; fi`,
                    `systemctl is-active --quiet ${NEWEST_PRIMARY_UNIT} || systemctl enable --now ${NEWEST_PRIMARY_UNIT}`,
                ] : []),
                putFile(HAPROXY_CONFIG, cfg, "0644", "root:root"),
                `haproxy -c -q -f ${HAPROXY_CONFIG}`,
                "systemctl enable haproxy",
                `if [ "$ZHA_CHANGED" = 1 ] || ! systemctl is-active --quiet haproxy; then systemctl reload-or-restart haproxy; fi`,
                // A reload whose new sockets cannot bind keeps the old worker running and still succeeds: prove the listeners.
                ...[args.httpPort, ...(withDb ? [args.dbPort] : [])].map(port =>
                    `zha_retry 10 sh -c "ss -Hltn 'sport = :${port}' | grep -q LISTEN" || { echo "haproxy does not listen on port ${port}; is another service bound to it?" >&2; exit 1; }`),
            ].join("\n"),
            // The host no longer balances this site: HAProxy and the watcher stop for good.
            delete: [
                `echo "this host is no longer a load balancer: stopping HAProxy and the newest-primary watcher for good"`,
                `systemctl disable --now ${NEWEST_PRIMARY_UNIT} 2>/dev/null || true`,
                "systemctl disable --now haproxy",
                `rm -f ${NEWEST_PRIMARY_WATCH} /etc/systemd/system/${NEWEST_PRIMARY_UNIT} ${PRIMARY_CHECK} ${PRIMARY_CHECK_PASSFILE}`,
                "systemctl daemon-reload",
            ].join("\n"),
        }, { parent: this });
        this.registerOutputs({ address: this.address, httpPort: this.httpPort, dbPort: this.dbPort });
    }
}
