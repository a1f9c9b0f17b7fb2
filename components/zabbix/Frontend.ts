import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PackageSource } from "../config/types";
import { FRONTEND, FrontendFacts } from "../facts";
import { Host } from "../host";
import { uiUrl } from "../loadbalancer/ports";
import { platformFor, zabbixLayout } from "../platform";
import { ZabbixDbLogin } from "../postgres/roles";
import { DbClientTls } from "../postgres/tls";
import { DB_PASSWORD_VARIABLE, frontendStep, frontendStepDelete } from "./steps";

/** nginx's `listen` address for every IPv4 address of the host. */
const EVERY_IPV4_ADDRESS = "0.0.0.0";

/**
 * FrontendArgs describe one Zabbix web frontend host.
 */
export interface FrontendArgs extends ZabbixDbLogin {
    /** The frontend host. */
    readonly host: Host;
    /** Its own site's load balancer address and DB port. */
    readonly dbHost: string;
    readonly dbPort: number;
    /** How its DB session is secured (SELF_RUN_DB_TLS: verify-full against the stack's CA). */
    readonly dbTls: DbClientTls;
    /** The zabbix role's password; a Pulumi secret. */
    readonly dbPassword: pulumi.Input<string>;
    /** Port nginx serves the UI on over HTTPS, behind the load balancers. */
    readonly port: number;
    /**
     * A pair's node, whose active node serves the UI to users at the pair's VIP. nginx then listens
     * on every IPv4 address (never IPv6's): the VIP exists only on the active node, and nginx, even
     * `nginx -t` in the step, refuses an address the host does not hold. As the pair's PostgreSQL
     * does, the firewall decides who reaches it.
     */
    readonly servesAtPairVip?: boolean;
    /** PHP time zone. */
    readonly timezone: string;
    readonly packageSource: PackageSource;
    /** Resources the frontend starts after (the server nodes). */
    readonly after: readonly pulumi.Resource[];
    /** Who runs nginx and php-fpm: systemd (the default), or a cluster manager on one node at a time. */
    readonly runBy?: "systemd" | "cluster-manager";
}

/**
 * Frontend is nginx, php-fpm and the Zabbix UI on one host, in HA mode: zabbix.conf.php names no
 * server, so the UI asks the database which node is active. It reaches the DB through its own
 * site's load balancer.
 */
export class Frontend extends pulumi.ComponentResource {
    /** The step that configures and starts nginx and php-fpm. */
    public readonly configured: command.remote.Command;
    /** What it declares: where it sits, the DB endpoint it is configured with, who runs it. */
    public readonly facts: FrontendFacts;

    constructor(name: string, args: FrontendArgs, opts?: pulumi.ComponentResourceOptions) {
        const host = args.host.config;
        // Declared facts (the component's inputs): the policy pack judges the DB endpoint, address and port.
        const facts: FrontendFacts = {
            host: host.name,
            site: host.site,
            dbHost: args.dbHost,
            dbPort: args.dbPort,
            runBy: args.runBy ?? "systemd",
        };
        super(FRONTEND.token, name, facts, opts);
        this.facts = facts;
        const platform = platformFor(host.os);
        const layout = zabbixLayout(platform, args.packageSource);
        this.configured = args.host.step(
            `${name}-web`,
            {
                script: frontendStep({
                    platform,
                    layout,
                    conf: {
                        dbHost: args.dbHost,
                        dbPort: args.dbPort,
                        dbTls: args.dbTls,
                        dbName: args.dbName,
                        dbUser: args.dbUser,
                        serverName: `Zabbix ${host.site}`,
                    },
                    port: args.port,
                    listenAddresses: [args.servesAtPairVip ? EVERY_IPV4_ADDRESS : host.address],
                    timezone: args.timezone,
                    runBy: args.runBy ?? "systemd",
                }),
                secrets: [{ variable: DB_PASSWORD_VARIABLE, value: args.dbPassword }],
                // The host no longer serves the UI: its site, pool and DB settings go; nginx and php-fpm serve nothing of Zabbix.
                delete: frontendStepDelete(platform, layout),
            },
            { parent: this, dependsOn: [...args.after] },
        );
        this.registerOutputs({ url: uiUrl(host.address, args.port) });
    }
}
