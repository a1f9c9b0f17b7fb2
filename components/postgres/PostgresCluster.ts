import * as command from "@pulumi/command";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import { ReplicationMode } from "../config/types";
import { DbHostFacts, POSTGRES, SelfRunDatabaseFacts } from "../facts";
import { Host } from "../host";
import { platformFor } from "../platform";
import { SelfRunDatabaseArgs, loadSchema, selfRunDatabaseObjects } from "./database";
import { DbPasswords } from "./passwords";
import { FollowStepInput, followStep, followStepDelete, notFollowingStep } from "./replicaSteps";
import { CHECK_ROLE, REPLICATION_ROLE, replicationSlotName } from "./roles";
import { HOST_CLIENT_TLS, HOST_SERVER_TLS } from "./tls";
import {
    DbHostFiles,
    FenceSettings,
    NewPrimary,
    configStep,
    configStepDelete,
    notPromotedStep,
    pairBootstrapStep,
    promoteStep,
    replicationPassfile,
    standDownStep,
    synchronousStep,
} from "./steps";

/**
 * PostgresClusterArgs describe the Zabbix database: a primary in one site, replicas in others.
 */
export interface PostgresClusterArgs extends SelfRunDatabaseArgs {
    /**
     * The other node of a DRBD pair that shares the primary's storage; a cluster manager starts
     * PostgreSQL on one node of the pair at a time. Excludes replicas.
     */
    readonly pairPeer?: Host;
    /**
     * For a pair: where the shared filesystem mounts (the data directory's parent), Pacemaker's DB
     * resource id, and the VIP that follows the pair's running node (replicas stream from it).
     */
    readonly pairStorage?: { readonly mountPoint: string; readonly dbResource: string; readonly vip: string };
    /** `sync` makes commits wait for one replica (after every replica streams); `async` does not. */
    readonly replication: ReplicationMode;
    /** Passwords of the roles; Pulumi secrets. */
    readonly passwords: DbPasswords;
    /** Steps the DB hosts' own steps run after (a cluster manager that mounts the data). */
    readonly startAfter?: readonly pulumi.Resource[];
}

/** The cluster's hosts in the order their steps are declared, and what each one's steps render. */
interface ClusterHosts {
    readonly primary: Host;
    /** The pair's other node, when the primary is a pair. */
    readonly peer?: Host;
    /** The replicas by name: the same design in any config order plans the same steps. */
    readonly replicas: readonly Host[];
    /** Every DB host: the primary, the pair's peer, then the replicas. */
    readonly all: readonly Host[];
    /** Whether the host is a node of the pair. */
    readonly inPair: (host: Host) => boolean;
    /** The files every step of the host renders. */
    readonly files: (host: Host) => DbHostFiles;
    /** What the other hosts follow: the primary, or with a pair the VIP that leads to its running node. */
    readonly newPrimary: NewPrimary;
}

/** The primary's role settings until every replica streams (asynchronous). */
const PRIMARY_ROLE = { role: "primary" as const, synchronousStandbys: [] };

/**
 * PostgresCluster is the Zabbix database across sites: a primary, streaming replicas with a
 * physical slot each, hba limited to the cluster's hosts with SCRAM, the zabbix role and database
 * made through the PostgreSQL provider, and the schema loaded once. Changing which host is primary
 * and running `pulumi up` is a planned switchover.
 *
 * Without a pair, every DB host carries the same steps whatever its role, so moving the primary
 * changes what they do, never which exist: nothing is created on, or deleted from, a host that
 * cannot be reached (a lost site's old primary), and its unchanged steps wait for nothing.
 */
export class PostgresCluster extends pulumi.ComponentResource {
    /** The schema step: Zabbix servers start after it. */
    public readonly schemaLoaded: command.remote.Command;
    // What the steps below build on: the provider through the admin endpoint, the step that leaves
    // the primary writable, each replica's follow step by host name, the Zabbix database.
    private readonly provider: postgresql.Provider;
    private readonly primaryReady: command.remote.Command;
    private readonly replicasStreaming: Readonly<Record<string, command.remote.Command>>;
    private readonly database: postgresql.Database;
    /** What it declares: where the primary and its standbys sit, and how a new primary appears. */
    public readonly facts: SelfRunDatabaseFacts;

    constructor(name: string, args: PostgresClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const facts = declaredFacts(args);
        super(POSTGRES.token, name, facts, opts);
        this.facts = facts;
        const hosts = clusterHosts(args);
        const configured = this.configSteps(name, args, hosts);
        // A lone primary (no replica anywhere) has nothing to stand down or follow.
        const standsDown = hosts.replicas.length === 0 ? [] : hosts.all.filter(h => !hosts.inPair(h));
        const stoodDown = standsDown.map(host =>
            host.step(
                `${name}-${host.config.name}-stand-down`,
                {
                    script: standDownStep(hosts.files(host), host === hosts.primary ? "this host" : hosts.newPrimary),
                },
                { parent: this, dependsOn: [configured.get(host)!] },
            ),
        );
        this.primaryReady = hosts.peer
            ? this.pairBootstrapSteps(name, args, hosts, hosts.peer, configured)
            : this.promoteSteps(name, args, hosts, configured, stoodDown);

        const objects = selfRunDatabaseObjects(
            this,
            name,
            args.adminEndpoint,
            this.primaryReady,
            args.passwords,
            args,
            args.primary.caCertPem,
        );
        this.provider = objects.provider;
        this.database = objects.database;
        const replicationRole = new postgresql.Role(
            `${name}-replication-role`,
            {
                name: REPLICATION_ROLE,
                login: true,
                replication: true,
                password: pulumi.secret(args.passwords.replication),
            },
            { parent: this, provider: this.provider, dependsOn: [objects.reachable] },
        );
        this.replicasStreaming = this.followSteps(name, hosts, standsDown, [replicationRole, this.primaryReady]);
        if (args.replication === "sync" && hosts.replicas.length > 0) {
            this.synchronousStep(name, hosts, Object.values(this.replicasStreaming));
        }
        this.schemaLoaded = loadSchema(this, name, args.schema, objects, { ...args, password: args.passwords.zabbix });

        this.registerOutputs({
            primary: args.primary.config.name,
            replicas: hosts.replicas.map(h => h.config.name),
            database: this.database.name,
        });
    }

    /** Every DB host's base step: its settings, hba and .pgpass, the fence where replicas exist, PostgreSQL running. */
    private configSteps(
        name: string,
        args: PostgresClusterArgs,
        hosts: ClusterHosts,
    ): Map<Host, command.remote.Command> {
        const fenced = !hosts.peer && hosts.replicas.length > 0;
        return new Map(
            hosts.all.map(host => {
                const isPrimary = host === hosts.primary;
                const fence: FenceSettings | undefined = fenced
                    ? {
                          peers: hosts.all.filter(h => h !== host).map(h => `${h.config.address}:${args.port}`),
                          checkUser: CHECK_ROLE,
                          passwordVariable: "CHECK_PASSWORD",
                          tls: HOST_CLIENT_TLS,
                      }
                    : undefined;
                const inPair = hosts.inPair(host);
                return [
                    host,
                    host.step(
                        `${name}-${host.config.name}-config`,
                        {
                            script: configStep(
                                hosts.files(host),
                                inPair ? "cluster-manager" : "systemd",
                                isPrimary || inPair ? "primary" : "replica",
                                fence,
                            ),
                            secrets: [
                                { variable: "REPLICATION_PASSWORD", value: args.passwords.replication },
                                ...(fence ? [{ variable: "CHECK_PASSWORD", value: args.passwords.check }] : []),
                            ],
                            delete: configStepDelete(hosts.files(host)),
                        },
                        { parent: this, dependsOn: inPair ? [...(args.startAfter ?? [])] : [] },
                    ),
                ];
            }),
        );
    }

    /** A pair: Pacemaker decides where PostgreSQL runs; the node that has it bootstraps the roles. */
    private pairBootstrapSteps(
        name: string,
        args: PostgresClusterArgs,
        hosts: ClusterHosts,
        peer: Host,
        configured: Map<Host, command.remote.Command>,
    ): command.remote.Command {
        if (!args.pairStorage) {
            throw new pulumi.ResourceError(
                `${name}: a pair's database needs pairStorage (mount point and DB resource)`,
                this,
            );
        }
        const storage = args.pairStorage;
        const secrets = roleSecrets(args.passwords);
        const onPeer = peer.step(
            `${name}-${peer.config.name}-bootstrap`,
            {
                script: pairBootstrapStep({ ...hosts.files(peer), roleConf: PRIMARY_ROLE, ...storage }),
                secrets,
            },
            { parent: this, dependsOn: [configured.get(peer)!] },
        );
        return hosts.primary.step(
            `${name}-${hosts.primary.config.name}-bootstrap`,
            {
                script: pairBootstrapStep({ ...hosts.files(hosts.primary), roleConf: PRIMARY_ROLE, ...storage }),
                secrets,
            },
            { parent: this, dependsOn: [configured.get(hosts.primary)!, onPeer] },
        );
    }

    /** Every DB host's promote step, once the others stood down: a no-op but on the configured primary. */
    private promoteSteps(
        name: string,
        args: PostgresClusterArgs,
        hosts: ClusterHosts,
        configured: Map<Host, command.remote.Command>,
        stoodDown: readonly command.remote.Command[],
    ): command.remote.Command {
        const promoted = hosts.all.map(host =>
            host.step(
                `${name}-${host.config.name}-promote`,
                host === hosts.primary
                    ? {
                          script: promoteStep({ ...hosts.files(host), roleConf: PRIMARY_ROLE }),
                          secrets: roleSecrets(args.passwords),
                      }
                    : { script: notPromotedStep(hosts.primary.config.name) },
                { parent: this, dependsOn: [configured.get(host)!, ...stoodDown] },
            ),
        );
        return promoted[0];
    }

    /** Each replica makes its own slot on the primary as it follows, and drops it when it leaves. */
    private followSteps(
        name: string,
        hosts: ClusterHosts,
        standsDown: readonly Host[],
        after: readonly pulumi.Resource[],
    ): Record<string, command.remote.Command> {
        const streaming: Record<string, command.remote.Command> = {};
        for (const host of standsDown) {
            const follows = host !== hosts.primary;
            const step = host.step(
                `${name}-${host.config.name}-follow`,
                follows
                    ? {
                          script: followStep(replicaConf(hosts, host)),
                          delete: followStepDelete(replicaConf(hosts, host)),
                      }
                    : { script: notFollowingStep() },
                // Rebuilt (--replace): the old copy stops and lets go of its slot before the new one is made.
                { parent: this, dependsOn: [...after], deleteBeforeReplace: true },
            );
            if (follows) {
                streaming[host.config.name] = step;
            }
        }
        return streaming;
    }

    /** Only once every replica streams: a synchronous primary without a streaming replica would block every commit. */
    private synchronousStep(name: string, hosts: ClusterHosts, streaming: readonly command.remote.Command[]): void {
        const files = hosts.files(hosts.primary);
        hosts.primary.step(
            `${name}-synchronous`,
            {
                script: synchronousStep({
                    ...files,
                    roleConf: { role: "primary", synchronousStandbys: hosts.replicas.map(h => h.config.name) },
                }),
                // Back to async (db.replication, or no replica left): commits stop waiting for a replica.
                delete: synchronousStep({ ...files, roleConf: PRIMARY_ROLE }),
            },
            { parent: this, dependsOn: [this.primaryReady, ...streaming] },
        );
    }
}

/** What the cluster declares: where the primary, its replicas and the pair's peer sit, and who fails it over. */
function declaredFacts(args: PostgresClusterArgs): SelfRunDatabaseFacts {
    const fact = (h: Host): DbHostFacts => ({
        host: h.config.name,
        site: h.config.site,
        address: h.config.address,
        port: args.port,
    });
    return {
        primary: fact(args.primary),
        replicas: args.replicas.map(fact),
        ...(args.pairPeer ? { pairPeer: fact(args.pairPeer) } : {}),
        // A pair alone moves its disk with Pacemaker; a replica in another site is promoted by
        // changing db.primarySite (manual, and declared so), a pair beside replicas included.
        failover: args.pairPeer && args.replicas.length === 0 ? "cluster-manager" : "manual",
        replication: args.pairPeer && args.replicas.length === 0 ? "block-sync" : args.replication,
    };
}

/** The cluster's hosts, ordered, and each host's files. */
function clusterHosts(args: PostgresClusterArgs): ClusterHosts {
    const peer = args.pairPeer;
    const inPair = (host: Host) => peer !== undefined && (host === peer || host === args.primary);
    // Canonical order: the same design in any config order plans the same steps.
    const replicas = [...args.replicas].sort((a, b) => a.config.name.localeCompare(b.config.name));
    return {
        primary: args.primary,
        peer,
        replicas,
        all: peer ? [args.primary, peer, ...replicas] : [args.primary, ...replicas],
        inPair,
        files: host => ({
            platform: platformFor(host.config.os),
            port: args.port,
            // A pair's node must also answer on the VIP, which only the running node holds: listen on all, hba decides.
            conf: {
                listenAddresses: inPair(host) ? ["*"] : ["localhost", host.config.address],
                port: args.port,
                maxConnections: args.maxConnections,
                tls: HOST_SERVER_TLS,
            },
            hba: args.hbaRules,
        }),
        newPrimary: { name: args.primary.config.name, address: args.pairStorage?.vip ?? args.primary.config.address },
    };
}

/** A replica's follow step: where it streams from (with a pair, the VIP leads to whichever node runs PostgreSQL). */
function replicaConf(hosts: ClusterHosts, host: Host): FollowStepInput {
    const files = hosts.files(host);
    return {
        ...files,
        roleConf: {
            role: "replica",
            primaryAddress: hosts.newPrimary.address,
            primaryPort: files.port,
            replicationUser: REPLICATION_ROLE,
            applicationName: host.config.name,
            slotName: replicationSlotName(host.config.name),
            passfile: replicationPassfile(files.platform),
            tls: HOST_CLIENT_TLS,
        },
    };
}

/** The admin and check roles' passwords, for the step that creates them. */
function roleSecrets(passwords: DbPasswords) {
    return [
        { variable: "ADMIN_PASSWORD", value: passwords.admin },
        { variable: "CHECK_PASSWORD", value: passwords.check },
    ];
}
