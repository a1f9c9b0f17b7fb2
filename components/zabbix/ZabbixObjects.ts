import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../config/reader";
import { ProxyGroupConfig, ZabbixVersion } from "../config/types";
import { ZABBIX_OBJECTS, ZabbixObjectsFacts } from "../facts";
import { Host } from "../host";
import { CA_FILE } from "../pki/files";
import { dataPathTemplate } from "../proxy/dataPathCheck";
import { Psk } from "../proxy/psk";
import { OBJECTS_SECRETS, objectKey, pskRecordFile, renderZabbixObjectsScript } from "./objectsScript";
import { SUPER_ADMIN_USER } from "./superAdmin";

/** The host group every monitored host of the stack is in. */
export const MONITORED_HOST_GROUP = "Zabbix-HA monitored hosts";

/** A proxy as the server knows it. */
export interface ProxyObjectArgs {
    /** Its Hostname (the proxy's host name). */
    readonly name: string;
    /** Its proxy group's name. */
    readonly group: string;
    /** The proxy host's address and port, where its group's agents reach it. */
    readonly address: string;
    /** Its ListenPort. */
    readonly port: number;
    /** Its PSK (ZabbixProxy.psk). */
    readonly psk: Psk;
}

/** A monitored host as the server knows it. */
export interface AgentHostArgs {
    /** Its Hostname (the monitored host's name). */
    readonly name: string;
    /** The proxy group that monitors it; absent when the servers do (no proxies, or Zabbix 6.0). */
    readonly group?: string;
    /** Its agent's PSK (ZabbixAgent.psk). */
    readonly psk: Psk;
}

/**
 * ZabbixObjectsArgs describe what one installation's Zabbix must hold for its data path.
 */
export interface ZabbixObjectsArgs {
    /** The installation's name (the topology's), which marks the objects it makes. */
    readonly installation: string;
    /** Host that runs the step: a frontend host (curl and jq; the API is reached from inside the estate). */
    readonly host: Host;
    /** The installation's JSON-RPC URL; https:// only (the Super Admin's password crosses it). */
    readonly apiUrl: string;
    /** The Super Admin's password (superAdmin.ts); a Pulumi secret, on stdin only. */
    readonly superAdminPassword: pulumi.Input<string>;
    /** The installation's Zabbix series: 6.0 has no proxy groups, so its agents' hosts are the servers'. */
    readonly zabbixVersion: ZabbixVersion;
    /** Its proxy groups (7.0). */
    readonly proxyGroups: readonly ProxyGroupConfig[];
    /** Its proxies. */
    readonly proxies: readonly ProxyObjectArgs[];
    /** Its monitored hosts' agents. */
    readonly agents: readonly AgentHostArgs[];
    /** How often each agent host sends the data path check's sequence (zabbix.dataPathCheckInterval). */
    readonly checkIntervalSeconds: number;
    /** Resources the step runs after: the schema (with the Super Admin's password) and the frontends behind apiUrl. */
    readonly after: readonly pulumi.Resource[];
}

/**
 * ZabbixObjects makes the Zabbix objects of one installation's data path through its API: each proxy
 * group, each proxy with its PSK and local address, the monitored hosts' group, and each agent's host
 * monitored by its proxy group (by the servers on 6.0 or without proxies) with its PSK. What it made
 * and the stack no longer has (a proxy or host whose role left) it deletes; nothing else it touches.
 *
 * Why a command on a host rather than a dynamic provider: the lab replays the stack's @pulumi/command
 * resources on real hosts and nothing else (a dynamic provider would run in the Pulumi program,
 * which the lab does not run), and the API is reached from inside the estate (the UI's addresses
 * and the stack's CA), as the config sync reaches it; a host of the estate already has curl and jq.
 */
export class ZabbixObjects extends pulumi.ComponentResource {
    /** The step that makes the objects. */
    public readonly configured: command.remote.Command;
    /** What it declares: the API it talks to and the objects it keeps there. */
    public readonly facts: ZabbixObjectsFacts;

    constructor(name: string, args: ZabbixObjectsArgs, opts?: pulumi.ComponentResourceOptions) {
        refusePlainUrl(args.apiUrl);
        const facts: ZabbixObjectsFacts = {
            host: args.host.config.name,
            site: args.host.config.site,
            apiUrl: args.apiUrl,
            proxyGroups: args.proxyGroups.map(g => g.name),
            proxies: args.proxies.map(p => p.name),
            hosts: args.agents.map(a => a.name),
        };
        super(ZABBIX_OBJECTS.token, name, facts, opts);
        this.facts = facts;
        // 6.0 has no proxy groups (the config refuses proxies there): its agents' hosts are the servers'.
        const byGroup = args.zabbixVersion !== "6.0";
        const psks = pulumi
            .all([
                ...args.proxies.map(p => pulumi.all([objectKey("proxy", p.name), p.psk.hex])),
                ...args.agents.map(a => pulumi.all([objectKey("host", a.name), a.psk.hex])),
            ])
            .apply(entries => JSON.stringify(Object.fromEntries(entries)));
        this.configured = args.host.step(
            `${name}-api`,
            {
                script: renderZabbixObjectsScript({
                    apiUrl: args.apiUrl,
                    apiUser: SUPER_ADMIN_USER,
                    caFile: CA_FILE,
                    installation: args.installation,
                    recordFile: pskRecordFile(args.installation),
                    hostGroup: MONITORED_HOST_GROUP,
                    template: dataPathTemplate(args.checkIntervalSeconds),
                    proxyGroups: byGroup ? args.proxyGroups : [],
                    proxies: args.proxies.map(p => ({
                        name: p.name,
                        group: p.group,
                        address: p.address,
                        port: p.port,
                        pskIdentity: p.psk.identity,
                    })),
                    hosts: args.agents.map(a => ({
                        name: a.name,
                        ...(byGroup && a.group !== undefined ? { group: a.group } : {}),
                        pskIdentity: a.psk.identity,
                    })),
                }),
                secrets: [
                    { variable: OBJECTS_SECRETS.password, value: args.superAdminPassword },
                    { variable: OBJECTS_SECRETS.psks, value: pulumi.secret(psks) },
                ],
            },
            { parent: this, dependsOn: [...args.after] },
        );
        this.registerOutputs({ apiUrl: args.apiUrl });
    }
}

/**
 * The step logs in as the Super Admin: a URL that is not https:// would send that password, and the
 * session token, in clear. Refused before any resource exists.
 */
function refusePlainUrl(url: string): void {
    if (!/^https:\/\//i.test(url)) {
        throw new ConfigError([
            {
                path: "zabbix.proxyGroups",
                message: `the Zabbix objects step would log in as ${SUPER_ADMIN_USER} over ${url}: only https:// URLs are allowed`,
            },
        ]);
    }
}
