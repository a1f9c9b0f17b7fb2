import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { formatZabbixDuration } from "../config/duration";
import { LoadConfig, PackageSource, ZabbixVersion } from "../config/types";
import { SERVER_CLUSTER, ServerClusterFacts, ServerFailover } from "../facts";
import { Host } from "../host";
import { platformFor, zabbixLayout } from "../platform";
import { ZabbixDbLogin } from "../postgres/roles";
import { DbClientTls } from "../postgres/tls";
import { ServerSizing } from "../sizing";
import { AgentServerSettings, agentServerSettings } from "./agentSettings";
import { SERVER_PASSWORD_INCLUDE } from "./serverPasswordInclude";
import { DB_PASSWORD_VARIABLE, failoverDelayStep, nodeRemovalStep, serverNodeStep } from "./steps";

/** One Zabbix server host and the load balancer it reaches the database through. */
export interface ServerNode {
    readonly host: Host;
    /** Its own site's load balancer address and DB port. */
    readonly dbHost: string;
    readonly dbPort: number;
    /** How its DB session is secured (SELF_RUN_DB_TLS: verify-full against the stack's CA). */
    readonly dbTls: DbClientTls;
    /** What must be in place before that path leads to the DB (its balancer's config step). */
    readonly dbReadyAfter?: readonly pulumi.Resource[];
}

/**
 * ZabbixServerClusterArgs describe the Zabbix server nodes of one native-HA cluster.
 */
export interface ZabbixServerClusterArgs extends ZabbixDbLogin {
    /** One HA node per zabbix-server host. */
    readonly nodes: readonly ServerNode[];
    /** Port every node listens on; NodeAddress advertises it. */
    readonly listenPort: number;
    /** The zabbix role's password; a Pulumi secret. */
    readonly dbPassword: pulumi.Input<string>;
    /** Seconds before a standby takes over from an active node that stopped heart-beating. */
    readonly failoverDelaySeconds: number;
    /** Caches and process counts for the expected load. */
    readonly sizing: ServerSizing;
    /** The expected load the sizing was derived from. */
    readonly load: LoadConfig;
    /** The address agents use when a cluster manager moves the server behind a VIP. */
    readonly agentAddress?: string;
    /** The Zabbix series the nodes run: zabbix_server.conf renders what that series knows. */
    readonly zabbixVersion: ZabbixVersion;
    readonly packageSource: PackageSource;
    /** Resources the nodes start after (the schema). */
    readonly after: readonly pulumi.Resource[];
    /**
     * Who runs the server: systemd on every node with native HA (the default), or a cluster manager
     * that starts it on one node at a time (no HANodeName; the step only writes the config).
     */
    readonly runBy?: "systemd" | "cluster-manager";
}

/**
 * ZabbixServerCluster is Zabbix's native HA: every node runs with HANodeName and NodeAddress,
 * one is active and the others stand by, and no VIP is needed. Each node reaches the DB through
 * its own site's load balancer, so a DB failover does not leave the nodes on a read-only replica.
 */
export class ZabbixServerCluster extends pulumi.ComponentResource {
    /** The step that stores the failover delay in the database. */
    public readonly failoverDelay: command.remote.Command;
    /** Each node's configure-and-start step, by host name. */
    public readonly nodes: Readonly<Record<string, command.remote.Command>>;
    /** What it declares: where the nodes sit, how a standby takes over, the sizing and the load. */
    public readonly facts: ServerClusterFacts;
    /** Server and ServerActive for the agents and proxies that report to this cluster. */
    public readonly agentSettings: AgentServerSettings;

    constructor(name: string, args: ZabbixServerClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const managed = args.runBy === "cluster-manager";
        // Failing over needs two nodes: a lone node (still an HA node, see below) has no standby.
        const nativeHa = !managed && args.nodes.length >= 2;
        const failover: ServerFailover = managed ? "cluster-manager" : nativeHa ? "native-ha" : "none";
        // Canonical order: the same design in any config order declares the same facts and steps.
        const sorted = [...args.nodes].sort((a, b) => a.host.config.name.localeCompare(b.host.config.name));
        const agents = agentServerSettings(
            args.agentAddress ? [args.agentAddress] : sorted.map(n => n.host.config.address),
            args.listenPort,
        );
        const facts: ServerClusterFacts = {
            nodes: sorted.map(n => ({
                host: n.host.config.name,
                site: n.host.config.site,
                address: n.host.config.address,
                dbHost: n.dbHost,
                dbPort: n.dbPort,
            })),
            failover,
            failoverDelaySeconds: args.failoverDelaySeconds,
            sizing: { ...args.sizing },
            load: { ...args.load },
            agentSettings: { ...agents },
        };
        super(SERVER_CLUSTER.token, name, facts, opts);
        this.facts = facts;
        if (args.nodes.length === 0) {
            throw new pulumi.ResourceError(`${name}: a Zabbix server cluster needs at least one node`, this);
        }
        const password = [{ variable: DB_PASSWORD_VARIABLE, value: args.dbPassword }];
        this.agentSettings = agents;

        // Failover delay is cluster-wide and lives in the DB; set it before any node starts, from the
        // first node by name that pulumi up can reach (a lost site's host would hold the change back).
        const first = sorted.find(n => !n.host.lost) ?? sorted[0];
        const delay = formatZabbixDuration(args.failoverDelaySeconds);
        this.failoverDelay = first.host.step(
            `${name}-failover-delay`,
            {
                script: failoverDelayStep(
                    {
                        dbHost: first.dbHost,
                        dbPort: first.dbPort,
                        dbTls: first.dbTls,
                        dbName: args.dbName,
                        dbUser: args.dbUser,
                    },
                    delay,
                ),
                secrets: password,
            },
            { parent: this, dependsOn: [...args.after, ...(first.dbReadyAfter ?? [])] },
        );

        const nodes: Record<string, command.remote.Command> = {};
        for (const node of sorted) {
            const host = node.host.config;
            const layout = zabbixLayout(platformFor(host.os), args.packageSource);
            const db = {
                dbHost: node.dbHost,
                dbPort: node.dbPort,
                dbTls: node.dbTls,
                dbName: args.dbName,
                dbUser: args.dbUser,
            };
            nodes[host.name] = node.host.step(
                `${name}-${host.name}`,
                {
                    script: serverNodeStep({
                        conf: {
                            // Every node systemd runs is an HA node, a lone one too: Zabbix refuses to switch a node
                            // between HA and standalone while another node's row stands by, which shrinking a
                            // cluster to one (the removed node goes last) or growing one from one would need.
                            nodeName: managed ? undefined : host.name,
                            nodeAddress: host.address,
                            listenPort: args.listenPort,
                            version: args.zabbixVersion,
                            ...db,
                            passwordInclude: SERVER_PASSWORD_INCLUDE,
                            logFile: layout.logFile,
                            pidFile: layout.pidFile,
                            socketDir: layout.socketDir,
                            sizing: args.sizing,
                        },
                        layout,
                        watcher: managed
                            ? undefined
                            : {
                                  nodeName: host.name,
                                  ...db,
                                  passwordInclude: SERVER_PASSWORD_INCLUDE,
                                  serverService: layout.serverService,
                                  failoverDelaySeconds: args.failoverDelaySeconds,
                                  clusterNodes: sorted.map(n => n.host.config.name),
                                  serverConfig: layout.serverConfig,
                              },
                    }),
                    secrets: password,
                    ...(managed
                        ? {}
                        : { delete: nodeRemovalStep({ nodeName: host.name, serverService: layout.serverService }) }),
                },
                { parent: this, dependsOn: [this.failoverDelay, ...(node.dbReadyAfter ?? [])] },
            );
        }
        this.nodes = nodes;
        this.registerOutputs({ nodes: Object.keys(nodes), failoverDelay: delay, agentSettings: agents });
    }
}
