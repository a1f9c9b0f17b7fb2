import * as pulumi from "@pulumi/pulumi";
import { ZabbixVersion } from "../config/types";
import { AgentFacts, ZABBIX_AGENT } from "../facts";
import { AgentSizing } from "../sizing";
import { AGENT_PSK_FILE, agentRemoval, agentStep } from "./steps";
import { DaemonPlacementArgs, ZabbixDaemon, ZabbixDaemonRecipe } from "./ZabbixDaemon";

/** The prefix of every agent's PSK identity; the host name follows. */
export const AGENT_PSK_IDENTITY_PREFIX = "zabbix-ha-agent-";

/**
 * ZabbixAgentArgs describe Zabbix agent 2 on one monitored host (an `agent` host).
 */
export interface ZabbixAgentArgs extends DaemonPlacementArgs<AgentSizing> {
    /** The Zabbix series of its agent 2. */
    readonly zabbixVersion: ZabbixVersion;
    /** ServerActive=: its group's proxies (or the cluster's nodes), `address:port` separated by ";". */
    readonly serverActive: string;
    /** The proxy group it reports through, if it reports through one. */
    readonly group?: string;
}

/**
 * ZabbixAgent runs agent 2 with active checks only, through one proxy group (or straight to the
 * servers), its values kept in a persistent buffer until a proxy takes them. The Zabbix host object
 * with its PSK is made through the Zabbix API by ZabbixObjects (components/zabbix).
 */
export class ZabbixAgent extends ZabbixDaemon<AgentFacts> {
    constructor(name: string, args: ZabbixAgentArgs, opts?: pulumi.ComponentResourceOptions) {
        const own = { serverActive: args.serverActive, ...(args.group !== undefined ? { group: args.group } : {}) };
        const recipe: ZabbixDaemonRecipe = {
            identityPrefix: AGENT_PSK_IDENTITY_PREFIX,
            daemon: layout => layout.agent,
            script: (layout, identity) =>
                agentStep(layout.agent, {
                    version: args.zabbixVersion,
                    hostname: args.host.config.name,
                    serverActive: args.serverActive,
                    controlSocket: `${layout.socketDir}/agent.sock`,
                    sizing: args.sizing,
                    psk: { identity, file: AGENT_PSK_FILE },
                }),
            removal: agentRemoval,
        };
        super(ZABBIX_AGENT.token, name, args, own, recipe, opts);
    }
}
