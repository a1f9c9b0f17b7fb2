import * as pulumi from "@pulumi/pulumi";
import { ProxyGroupConfig } from "../config/types";
import { ProxyFacts, ZABBIX_PROXY } from "../facts";
import { ProxySizing } from "../sizing";
import { PROXY_PSK_FILE, proxyRemoval, proxyStep } from "./steps";
import { DaemonPlacementArgs, ZabbixDaemon, ZabbixDaemonRecipe } from "./ZabbixDaemon";

/** The prefix of every proxy's PSK identity; the host name follows. */
export const PROXY_PSK_IDENTITY_PREFIX = "zabbix-ha-proxy-";

/**
 * ZabbixProxyArgs describe one active Zabbix proxy on a `proxy` host.
 */
export interface ZabbixProxyArgs extends DaemonPlacementArgs<ProxySizing> {
    /** Server=: the server cluster's ServerActive (its nodes separated by ";"), or its VIP. */
    readonly server: string;
    /** Port the proxy listens on for its agents. */
    readonly listenPort: number;
    /** The proxy group it belongs to. */
    readonly group: ProxyGroupConfig;
}

/**
 * ZabbixProxy is one active proxy with its own SQLite database: it takes its agents' values, keeps
 * them while no server node answers, and sends them to whichever node is active. Its PSK is
 * generated here; the Zabbix objects (its proxy group, the proxy with its PSK) are made through the
 * Zabbix API by ZabbixObjects (components/zabbix).
 */
export class ZabbixProxy extends ZabbixDaemon<ProxyFacts> {
    constructor(name: string, args: ZabbixProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        const group = args.group;
        const own = {
            server: args.server,
            group: group.name,
            groupFailoverDelaySeconds: group.failoverDelaySeconds,
            groupMinOnline: group.minOnline,
        };
        const recipe: ZabbixDaemonRecipe = {
            identityPrefix: PROXY_PSK_IDENTITY_PREFIX,
            daemon: layout => layout.proxy,
            script: (layout, identity) =>
                proxyStep(layout.proxy, {
                    hostname: args.host.config.name,
                    server: args.server,
                    listenIp: args.host.config.address,
                    listenPort: args.listenPort,
                    socketDir: layout.socketDir,
                    sizing: args.sizing,
                    psk: { identity, file: PROXY_PSK_FILE },
                }),
            removal: proxyRemoval,
        };
        super(ZABBIX_PROXY.token, name, args, own, recipe, opts);
    }
}
