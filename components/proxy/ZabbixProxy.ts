import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PackageSource, ProxyGroupConfig } from "../config/types";
import { ProxyFacts, ZABBIX_PROXY } from "../facts";
import { Host, renderFor } from "../host";
import { platformFor, zabbixLayout } from "../platform";
import { ProxySizing } from "../sizing";
import { Psk, generatePsk } from "./psk";
import { PROXY_PSK_FILE, PSK_VARIABLE, proxyRemoval, proxyStep } from "./steps";

/** The prefix of every proxy's PSK identity; the host name follows. */
export const PROXY_PSK_IDENTITY_PREFIX = "zabbix-ha-proxy-";

/**
 * ZabbixProxyArgs describe one active Zabbix proxy on a `proxy` host.
 */
export interface ZabbixProxyArgs {
    /** The proxy's host; its name is the proxy's Hostname in Zabbix. */
    readonly host: Host;
    /** Server=: the server cluster's ServerActive (its nodes separated by ";"), or its VIP. */
    readonly server: string;
    /** Port the proxy listens on for its agents. */
    readonly listenPort: number;
    /** The proxy group it belongs to. */
    readonly group: ProxyGroupConfig;
    /** Its buffers, and the longest outage of the servers they were sized to bridge. */
    readonly sizing: ProxySizing;
    readonly outageSeconds: number;
    readonly packageSource: PackageSource;
}

/**
 * ZabbixProxy is one active proxy with its own SQLite database: it takes its agents' values, keeps
 * them while no server node answers, and sends them to whichever node is active. Its PSK is
 * generated here; the Zabbix objects (its proxy group, the proxy with its PSK) are made through the
 * Zabbix API, which is not part of this component yet (see components/proxy/index.ts).
 */
export class ZabbixProxy extends pulumi.ComponentResource {
    /** The step that installs its files and runs it. */
    public readonly configured: command.remote.Command;
    /** Its PSK identity and key (a secret), for the server's proxy object. */
    public readonly psk: Psk;
    /** What it declares: where it sits, its server and group, its buffers. */
    public readonly facts: ProxyFacts;

    constructor(name: string, args: ZabbixProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        const host = args.host.config;
        const facts: ProxyFacts = {
            host: host.name,
            site: host.site,
            address: host.address,
            server: args.server,
            group: args.group.name,
            groupFailoverDelaySeconds: args.group.failoverDelaySeconds,
            groupMinOnline: args.group.minOnline,
            sizing: { ...args.sizing },
            outageSeconds: args.outageSeconds,
            tls: "psk",
        };
        super(ZABBIX_PROXY.token, name, facts, opts);
        this.facts = facts;
        this.psk = generatePsk(name, `${PROXY_PSK_IDENTITY_PREFIX}${host.name}`, this);
        const layout = zabbixLayout(platformFor(host.os), args.packageSource);
        this.configured = args.host.step(
            `${name}-config`,
            {
                script: renderFor(this, () =>
                    proxyStep(layout.proxy, {
                        hostname: host.name,
                        server: args.server,
                        listenIp: host.address,
                        listenPort: args.listenPort,
                        logFile: layout.proxy.logFile,
                        pidFile: layout.proxy.pidFile,
                        socketDir: layout.socketDir,
                        sizing: args.sizing,
                        psk: { identity: this.psk.identity, file: PROXY_PSK_FILE },
                    }),
                ),
                secrets: [{ variable: PSK_VARIABLE, value: this.psk.hex }],
                delete: proxyRemoval(layout.proxy),
            },
            { parent: this },
        );
        this.registerOutputs({ configured: this.configured.id, pskIdentity: this.psk.identity });
    }
}
