import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PackageSource } from "../config/types";
import { FRONTEND, FrontendFacts } from "../facts";
import { Host } from "../host";
import { platformFor, zabbixLayout } from "../platform";
import { putFile, putSecretFile } from "../shell";
import { renderNginxSite, renderPhpFpmPool, renderZabbixConfPhp } from "./render";

/**
 * FrontendArgs describe one Zabbix web frontend host.
 */
export interface FrontendArgs {
    /** The frontend host. */
    readonly host: Host;
    /** Its own site's load balancer address and DB port. */
    readonly dbHost: string;
    readonly dbPort: number;
    /** Refuse a database session without TLS (a managed endpoint across zones). */
    readonly dbTlsRequired?: boolean;
    /** Zabbix database and role names. */
    readonly dbName: string;
    readonly dbUser: string;
    /** The zabbix role's password; a Pulumi secret. */
    readonly dbPassword: pulumi.Input<string>;
    /** Port nginx serves the UI on, behind the load balancers. */
    readonly port: number;
    /** PHP time zone. */
    readonly timezone: string;
    readonly packageSource: PackageSource;
    /** Resources the frontend starts after (the server nodes). */
    readonly after: readonly pulumi.Resource[];
    /** Who runs nginx and php-fpm: systemd (the default), or a cluster manager on one node at a time. */
    readonly runBy?: "systemd" | "cluster-manager";
}

export const FRONTEND_PASSWORD_FILE = "/etc/zabbix/web-db-password";

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
        const facts: FrontendFacts = { host: host.name, site: host.site, dbHost: args.dbHost, dbPort: args.dbPort, runBy: args.runBy ?? "systemd" };
        super(FRONTEND.token, name, facts, opts);
        this.facts = facts;
        const platform = platformFor(host.os);
        const layout = zabbixLayout(platform, args.packageSource);
        const php = platform.phpFpm;
        const socket = `${php.socketDir}/zabbix.sock`;
        const webUser = php.webUser;
        this.configured = args.host.step(`${name}-web`, {
            script: [
                putSecretFile(FRONTEND_PASSWORD_FILE, "ZABBIX_DB_PASSWORD", "0640", `root:${webUser}`),
                putFile(layout.frontendConfig, renderZabbixConfPhp({
                    dbHost: args.dbHost,
                    dbPort: args.dbPort,
                    dbTlsRequired: args.dbTlsRequired,
                    dbName: args.dbName,
                    dbUser: args.dbUser,
                    passwordFile: FRONTEND_PASSWORD_FILE,
                    serverName: `Zabbix ${host.site}`,
                }), "0640", `root:${webUser}`),
                putFile(`${php.poolDir}/zabbix.conf`, renderPhpFpmPool({ socket, user: webUser, timezone: args.timezone }), "0644", "root:root"),
                putFile(`${platform.nginxSiteDir}/zabbix.conf`, renderNginxSite({ listenPort: args.port, root: layout.frontendRoot, phpSocket: socket }), "0644", "root:root"),
                // The distribution's default site listens on port 80, which a co-located load balancer uses.
                "if [ -e /etc/nginx/sites-enabled/default ]; then rm -f /etc/nginx/sites-enabled/default; ZHA_CHANGED=1; fi",
                "nginx -t -q",
                ...(args.runBy === "cluster-manager" ? [
                    `if [ "$ZHA_CHANGED" = 1 ] && systemctl is-active --quiet nginx; then systemctl restart ${php.service} nginx; fi`,
                ] : [
                    `systemctl enable ${php.service} nginx`,
                    `if [ "$ZHA_CHANGED" = 1 ] || ! systemctl is-active --quiet ${php.service} || ! systemctl is-active --quiet nginx; then systemctl restart ${php.service} nginx; fi`,
                ]),
            ].join("\n"),
            secrets: [{ variable: "ZABBIX_DB_PASSWORD", value: args.dbPassword }],
            // The host no longer serves the UI: its site, pool and DB settings go; nginx and php-fpm serve nothing of Zabbix.
            delete: [
                `echo "this host no longer serves the Zabbix UI: removing its site, pool and settings"`,
                `rm -f ${[`${platform.nginxSiteDir}/zabbix.conf`, `${php.poolDir}/zabbix.conf`, layout.frontendConfig, FRONTEND_PASSWORD_FILE].join(" ")}`,
                `if systemctl is-active --quiet nginx; then systemctl reload nginx; fi`,
                `if systemctl is-active --quiet ${php.service}; then systemctl restart ${php.service}; fi`,
            ].join("\n"),
        }, { parent: this, dependsOn: [...args.after] });
        this.registerOutputs({ url: `http://${host.address}:${args.port}/` });
    }
}
