import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PackageSource } from "../config/types";
import { AgentFacts, ZABBIX_AGENT } from "../facts";
import { Host, renderFor } from "../host";
import { platformFor, zabbixLayout } from "../platform";
import { AgentSizing } from "../sizing";
import { Psk, generatePsk } from "./psk";
import { AGENT_PSK_FILE, PSK_VARIABLE, agentRemoval, agentStep } from "./steps";

/** The prefix of every agent's PSK identity; the host name follows. */
export const AGENT_PSK_IDENTITY_PREFIX = "zabbix-ha-agent-";

/**
 * ZabbixAgentArgs describe Zabbix agent 2 on one monitored host (an `agent` host).
 */
export interface ZabbixAgentArgs {
    /** The monitored host; its name is the agent's Hostname in Zabbix. */
    readonly host: Host;
    /** ServerActive=: its group's proxies (or the cluster's nodes), `address:port` separated by ";". */
    readonly serverActive: string;
    /** The proxy group it reports through, if it reports through one. */
    readonly group?: string;
    /** Its buffers, and the longest outage they were sized to outlast. */
    readonly sizing: AgentSizing;
    readonly outageSeconds: number;
    readonly packageSource: PackageSource;
}

/**
 * ZabbixAgent runs agent 2 with active checks only, through one proxy group (or straight to the
 * servers), its values kept in a persistent buffer until a proxy takes them. The Zabbix host object
 * with its PSK (or an autoregistration action) is made through the Zabbix API, not here yet.
 */
export class ZabbixAgent extends pulumi.ComponentResource {
    public readonly configured: command.remote.Command;
    /** Its PSK identity and key (a secret), for the server's host object. */
    public readonly psk: Psk;
    /** What it declares: where it sits, where it sends, its buffers. */
    public readonly facts: AgentFacts;

    constructor(name: string, args: ZabbixAgentArgs, opts?: pulumi.ComponentResourceOptions) {
        const host = args.host.config;
        const facts: AgentFacts = {
            host: host.name,
            site: host.site,
            address: host.address,
            serverActive: args.serverActive,
            ...(args.group !== undefined ? { group: args.group } : {}),
            sizing: { ...args.sizing },
            outageSeconds: args.outageSeconds,
            tls: "psk",
        };
        super(ZABBIX_AGENT.token, name, facts, opts);
        this.facts = facts;
        this.psk = generatePsk(name, `${AGENT_PSK_IDENTITY_PREFIX}${host.name}`, this);
        const layout = zabbixLayout(platformFor(host.os), args.packageSource);
        this.configured = args.host.step(
            `${name}-config`,
            {
                script: renderFor(this, () =>
                    agentStep(layout.agent, {
                        hostname: host.name,
                        serverActive: args.serverActive,
                        logFile: layout.agent.logFile,
                        pidFile: layout.agent.pidFile,
                        controlSocket: `${layout.socketDir}/agent.sock`,
                        sizing: args.sizing,
                        psk: { identity: this.psk.identity, file: AGENT_PSK_FILE },
                    }),
                ),
                secrets: [{ variable: PSK_VARIABLE, value: this.psk.hex }],
                delete: agentRemoval(layout.agent),
            },
            { parent: this },
        );
        this.registerOutputs({ configured: this.configured.id, pskIdentity: this.psk.identity });
    }
}
