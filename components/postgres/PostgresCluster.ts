import * as command from "@pulumi/command";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import { ReplicationMode } from "../config/types";
import { DbHostFacts, POSTGRES, SelfRunDatabaseFacts } from "../facts";
import { Host } from "../host";
import { platformFor } from "../platform";
import { PrimaryEndpoint, SchemaLoader, loadSchema, primaryReachable, zabbixDatabaseObjects } from "./database";
import { HbaRule } from "./pgHba";
import { ADMIN_ROLE, CHECK_ROLE, REPLICATION_ROLE, replicationSlotName } from "./roles";
import { DbPasswords } from "./passwords";
import { FollowStepInput, followStep, followStepDelete, notFollowingStep } from "./replicaSteps";
import {
    DbHostFiles, NewPrimary, configStep, configStepDelete, notPromotedStep, pairBootstrapStep, promoteStep, standDownStep, synchronousStep,
} from "./steps";

/**
 * PostgresClusterArgs describe the Zabbix database: a primary in one site, replicas in others.
 */
export interface PostgresClusterArgs {
    /** The primary site's DB host. */
    readonly primary: Host;
    /** DB hosts of the other sites, each streaming from the primary through its own slot. */
    readonly replicas: readonly Host[];
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
    /** PostgreSQL's port on the DB hosts. */
    readonly port: number;
    /** Zabbix database and owner role names. */
    readonly dbName: string;
    readonly dbUser: string;
    /** `sync` makes commits wait for one replica (after every replica streams); `async` does not. */
    readonly replication: ReplicationMode;
    /** Who may connect, rendered into every DB host's pg_hba.conf. */
    readonly hbaRules: readonly HbaRule[];
    /** max_connections, sized for the Zabbix servers and frontends. */
    readonly maxConnections: number;
    /** The primary site's load balancer DB port: the provider reaches the primary through it. */
    readonly adminEndpoint: PrimaryEndpoint;
    /** Passwords of the roles; Pulumi secrets. */
    readonly passwords: DbPasswords;
    /** How the schema is loaded. */
    readonly schema: SchemaLoader;
    /** Steps the DB hosts' own steps run after (a cluster manager that mounts the data). */
    readonly startAfter?: readonly pulumi.Resource[];
}

/**
 * PostgresCluster is the Zabbix database across sites: a primary, streaming replicas with a
 * physical slot each, hba limited to the cluster's hosts with SCRAM, the zabbix role and database
 * made through the PostgreSQL provider, and the schema loaded once. Changing which host is primary
 * and running `pulumi up` is a planned switchover.
 */
export class PostgresCluster extends pulumi.ComponentResource {
    /** The provider connected to the primary through the admin endpoint. */
    public readonly provider: postgresql.Provider;
    /** The step that leaves the primary writable. */
    public readonly primaryReady: command.remote.Command;
    /** The schema step: Zabbix servers start after it. */
    public readonly schemaLoaded: command.remote.Command;
    /** Each replica's follow step, by host name. */
    public readonly replicasStreaming: Readonly<Record<string, command.remote.Command>>;
    public readonly database: postgresql.Database;
    /** What it declares: where the primary and its standbys sit, and how a new primary appears. */
    public readonly facts: SelfRunDatabaseFacts;

    constructor(name: string, args: PostgresClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const fact = (h: Host): DbHostFacts => ({ host: h.config.name, site: h.config.site, address: h.config.address, port: args.port });
        const facts: SelfRunDatabaseFacts = {
            primary: fact(args.primary),
            replicas: args.replicas.map(fact),
            ...(args.pairPeer ? { pairPeer: fact(args.pairPeer) } : {}),
            // A pair alone moves its disk with Pacemaker; a replica in another site is promoted by
            // changing db.primarySite (manual, and declared so), a pair beside replicas included.
            failover: args.pairPeer && args.replicas.length === 0 ? "cluster-manager" : "manual",
            replication: args.pairPeer && args.replicas.length === 0 ? "block-sync" : args.replication,
        };
        super(POSTGRES.token, name, facts, opts);
        this.facts = facts;
        const parent = { parent: this };
        const peer = args.pairPeer;
        const inPair = (host: Host) => peer !== undefined && (host === peer || host === args.primary);
        // Canonical order: the same design in any config order plans the same steps.
        const replicas = [...args.replicas].sort((a, b) => a.config.name.localeCompare(b.config.name));
        const files = (host: Host): DbHostFiles => ({
            platform: platformFor(host.config.os),
            port: args.port,
            // A pair's node must also answer on the VIP, which only the running node holds: listen on all, hba decides.
            conf: { listenAddresses: inPair(host) ? ["*"] : ["localhost", host.config.address], port: args.port, maxConnections: args.maxConnections },
            hba: args.hbaRules,
        });
        const replicaConf = (host: Host): FollowStepInput => ({
            ...files(host),
            roleConf: {
                role: "replica",
                // With a pair, the VIP leads to whichever node runs PostgreSQL.
                primaryAddress: args.pairStorage?.vip ?? args.primary.config.address,
                primaryPort: args.port,
                replicationUser: REPLICATION_ROLE,
                applicationName: host.config.name,
                slotName: replicationSlotName(host.config.name),
                passfile: `${platformFor(host.config.os).postgres.home}/.pgpass`,
            },
        });
        const roleSecrets = [
            { variable: "ADMIN_PASSWORD", value: args.passwords.admin },
            { variable: "CHECK_PASSWORD", value: args.passwords.check },
        ];
        const primaryRole = { role: "primary" as const, synchronousStandbys: [] };
        const newPrimary: NewPrimary = { name: args.primary.config.name, address: args.pairStorage?.vip ?? args.primary.config.address };

        // Without a pair, every DB host carries the same steps whatever its role, so moving the primary
        // changes what they do, never which exist: nothing is created on, or deleted from, a host that
        // cannot be reached (a lost site's old primary), and its unchanged steps wait for nothing.
        const dbHosts = peer ? [args.primary, peer, ...replicas] : [args.primary, ...replicas];
        const fenced = !peer && replicas.length > 0;
        const configured = new Map(dbHosts.map(host => {
            const isPrimary = host === args.primary;
            const fence = fenced ? {
                peers: dbHosts.filter(h => h !== host).map(h => `${h.config.address}:${args.port}`),
                checkUser: CHECK_ROLE,
                passwordVariable: "CHECK_PASSWORD",
            } : undefined;
            return [host, host.step(`${name}-${host.config.name}-config`, {
                script: configStep(files(host), inPair(host) ? "cluster-manager" : "systemd", isPrimary || inPair(host) ? "primary" : "replica", fence),
                secrets: [
                    { variable: "REPLICATION_PASSWORD", value: args.passwords.replication },
                    ...(fence ? [{ variable: "CHECK_PASSWORD", value: args.passwords.check }] : []),
                ],
                delete: configStepDelete(files(host)),
            }, { ...parent, dependsOn: inPair(host) ? [...(args.startAfter ?? [])] : [] })];
        }));
        // A lone primary (no replica anywhere) has nothing to stand down or follow.
        const standsDown = replicas.length === 0 ? [] : dbHosts.filter(h => !inPair(h));
        const stoodDown = standsDown.map(host => host.step(`${name}-${host.config.name}-stand-down`, {
            script: standDownStep(files(host), host === args.primary ? "this host" : newPrimary),
        }, { ...parent, dependsOn: [configured.get(host)!] }));

        if (peer) {
            // Pacemaker decides where PostgreSQL runs; the node that has it bootstraps the roles.
            if (!args.pairStorage) {
                throw new pulumi.ResourceError(`${name}: a pair's database needs pairStorage (mount point and DB resource)`, this);
            }
            const storage = args.pairStorage;
            const onPeer = peer.step(`${name}-${peer.config.name}-bootstrap`, {
                script: pairBootstrapStep({ ...files(peer), roleConf: primaryRole, ...storage }),
                secrets: roleSecrets,
            }, { ...parent, dependsOn: [configured.get(peer)!] });
            this.primaryReady = args.primary.step(`${name}-${args.primary.config.name}-bootstrap`, {
                script: pairBootstrapStep({ ...files(args.primary), roleConf: primaryRole, ...storage }),
                secrets: roleSecrets,
            }, { ...parent, dependsOn: [configured.get(args.primary)!, onPeer] });
        } else {
            const promoted = dbHosts.map(host => host.step(`${name}-${host.config.name}-promote`, host === args.primary
                ? { script: promoteStep({ ...files(host), roleConf: primaryRole }), secrets: roleSecrets }
                : { script: notPromotedStep(args.primary.config.name) },
            { ...parent, dependsOn: [configured.get(host)!, ...stoodDown] }));
            this.primaryReady = promoted[0];
        }

        // The provider may connect only once the load balancer routes to the new primary.
        const endpoint = args.adminEndpoint;
        const reachable = endpoint.loadBalancer
            ? primaryReachable(this, name, endpoint.loadBalancer, endpoint.address, endpoint.port, [this.primaryReady, ...endpoint.readyAfter])
            : this.primaryReady;
        // The cluster serves no TLS yet; SCRAM keeps the password itself off the wire.
        const objects = zabbixDatabaseObjects(this, name, {
            address: endpoint.address, port: endpoint.port, user: ADMIN_ROLE, password: args.passwords.admin, superuser: true, sslmode: "disable",
        }, { dbName: args.dbName, dbUser: args.dbUser, password: args.passwords.zabbix }, [reachable, ...endpoint.readyAfter]);
        this.provider = objects.provider;
        this.database = objects.database;
        const replicationRole = new postgresql.Role(`${name}-replication-role`, {
            name: REPLICATION_ROLE,
            login: true,
            replication: true,
            password: pulumi.secret(args.passwords.replication),
        }, { parent: this, provider: this.provider, dependsOn: [reachable] });

        // Each replica makes its own slot on the primary as it follows, and drops it when it leaves.
        const streaming: Record<string, command.remote.Command> = {};
        for (const host of standsDown) {
            const follows = host !== args.primary;
            const step = host.step(`${name}-${host.config.name}-follow`, follows
                ? { script: followStep(replicaConf(host)), delete: followStepDelete(replicaConf(host)) }
                : { script: notFollowingStep() },
            // Rebuilt (--replace): the old copy stops and lets go of its slot before the new one is made.
            { ...parent, dependsOn: [replicationRole, this.primaryReady], deleteBeforeReplace: true });
            if (follows) {
                streaming[host.config.name] = step;
            }
        }
        this.replicasStreaming = streaming;

        if (args.replication === "sync" && replicas.length > 0) {
            // Only now: a synchronous primary without a streaming replica would block every commit.
            args.primary.step(`${name}-synchronous`, {
                script: synchronousStep({
                    ...files(args.primary),
                    roleConf: { role: "primary", synchronousStandbys: replicas.map(h => h.config.name) },
                }),
                // Back to async (db.replication, or no replica left): commits stop waiting for a replica.
                delete: synchronousStep({ ...files(args.primary), roleConf: primaryRole }),
            }, { ...parent, dependsOn: [this.primaryReady, ...Object.values(streaming)] });
        }

        this.schemaLoaded = loadSchema(this, name, args.schema, args.dbName, args.dbUser, args.passwords.zabbix, [objects.database, objects.zabbixRole, ...objects.grants]);

        this.registerOutputs({
            primary: args.primary.config.name,
            replicas: replicas.map(h => h.config.name),
            database: this.database.name,
        });
    }
}
