import * as command from "@pulumi/command";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import type { PostgresFacts } from "../../policies/rules/facts";
import { DatabaseTopology } from "../analysis/topology";
import { ReplicationMode } from "../config/types";
import { Host } from "../host";
import { platformFor } from "../platform";
import { primaryReachable, zabbixDatabaseObjects } from "./database";
import { ADMIN_ROLE, HbaRule, REPLICATION_ROLE, replicationSlotName } from "./render";
import { DbHostFiles, configStep, followStep, pairBootstrapStep, promoteStep, schemaStep, standDownStep, synchronousStep } from "./steps";
import { DbPasswords } from "./passwords";

/** An endpoint that leads to the read-write primary: a site load balancer's DB port, or a pair's VIP. */
export interface PrimaryEndpoint {
    readonly address: string;
    readonly port: number;
    /** The load balancer host behind the address, where the path to the primary is checked first. */
    readonly loadBalancer?: Host;
    /** Resources that must exist before the endpoint works (the load balancer's config step). */
    readonly readyAfter: readonly pulumi.Resource[];
}

/** Where and how the Zabbix schema is loaded. */
export interface SchemaLoader {
    /** A host with the schema files and psql (a Zabbix server host). */
    readonly host: Host;
    /** Its site's load balancer endpoint. */
    readonly dbHost: string;
    readonly dbPort: number;
    /** Refuse a session without TLS (a managed endpoint). */
    readonly dbTlsRequired?: boolean;
    /** Schema files in load order. */
    readonly files: readonly string[];
    /** Steps the loader host needs first (none beyond its packages, usually). */
    readonly after?: readonly pulumi.Resource[];
}

/** The step that loads the Zabbix schema once, through the loader's DB path, as the zabbix role. */
export function loadSchema(
    parent: pulumi.Resource, name: string, loader: SchemaLoader, dbName: string, dbUser: string,
    password: pulumi.Input<string>, after: readonly pulumi.Resource[],
): command.remote.Command {
    return loader.host.step(`${name}-schema`, {
        script: schemaStep({
            dbHost: loader.dbHost,
            dbPort: loader.dbPort,
            dbTlsRequired: loader.dbTlsRequired,
            dbName,
            dbUser,
            passwordVariable: "ZABBIX_DB_PASSWORD",
            schemaFiles: loader.files,
        }),
        secrets: [{ variable: "ZABBIX_DB_PASSWORD", value: password }],
    }, { parent, dependsOn: [...after, ...(loader.after ?? [])] });
}

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
    /** Where the primary and its standbys sit, and how a new primary appears. */
    public readonly topology: DatabaseTopology;

    constructor(name: string, args: PostgresClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const fact = (h: Host) => ({ host: h.config.name, site: h.config.site, address: h.config.address, port: args.port });
        super("zabbix-ha:postgres:PostgresCluster", name, {
            primary: fact(args.primary),
            replicas: args.replicas.map(fact),
            ...(args.pairPeer ? { pairPeer: fact(args.pairPeer) } : {}),
            // Streaming replicas are promoted by changing db.primarySite: the failover is manual, and says so.
            // Across sites a replica is promoted by changing db.primarySite: manual, and declared so.
            failover: args.pairPeer && args.replicas.length === 0 ? "cluster-manager" : "manual",
            replication: args.pairPeer && args.replicas.length === 0 ? "block-sync" : args.replication,
        } satisfies PostgresFacts, opts);
        const parent = { parent: this };
        const peer = args.pairPeer;
        const inPair = (host: Host) => peer !== undefined && (host === peer || host === args.primary);
        const files = (host: Host): DbHostFiles => ({
            platform: platformFor(host.config.os),
            port: args.port,
            // A pair's node must also answer on the VIP, which only the running node holds: listen on all, hba decides.
            conf: { listenAddresses: inPair(host) ? ["*"] : ["localhost", host.config.address], port: args.port, maxConnections: args.maxConnections },
            hba: args.hbaRules,
        });
        const all = [args.primary, ...args.replicas, ...(peer ? [peer] : [])];
        const replicationSecret = [{ variable: "REPLICATION_PASSWORD", value: args.passwords.replication }];
        const roleSecrets = [
            { variable: "ADMIN_PASSWORD", value: args.passwords.admin },
            { variable: "CHECK_PASSWORD", value: args.passwords.check },
        ];

        const configured = new Map(all.map(host => [host, host.step(`${name}-${host.config.name}-config`, {
            script: configStep(files(host), inPair(host) ? "cluster-manager" : "systemd"),
            secrets: replicationSecret,
        }, { ...parent, dependsOn: inPair(host) ? [...(args.startAfter ?? [])] : [] })]));
        const stoodDown = args.replicas.map(host => host.step(`${name}-${host.config.name}-stand-down`, {
            script: standDownStep(files(host)),
        }, { ...parent, dependsOn: [configured.get(host)!] }));

        const primaryRole = { role: "primary" as const, synchronousStandbys: [] };
        if (peer) {
            // Pacemaker decides where PostgreSQL runs; the node that has it bootstraps the roles.
            if (!args.pairStorage) {
                throw new Error(`${name}: a pair's database needs pairStorage (mount point and DB resource)`);
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
            this.primaryReady = args.primary.step(`${name}-${args.primary.config.name}-promote`, {
                script: promoteStep({ ...files(args.primary), roleConf: primaryRole }),
                secrets: roleSecrets,
            }, { ...parent, dependsOn: [configured.get(args.primary)!, ...stoodDown] });
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
        const viaProvider = { parent: this, provider: this.provider, dependsOn: [reachable] };
        const replicationRole = new postgresql.Role(`${name}-replication-role`, {
            name: REPLICATION_ROLE,
            login: true,
            replication: true,
            password: pulumi.secret(args.passwords.replication),
        }, viaProvider);

        const streaming: Record<string, command.remote.Command> = {};
        for (const host of args.replicas) {
            const slotName = replicationSlotName(host.config.name);
            const slot = new postgresql.PhysicalReplicationSlot(`${name}-${host.config.name}-slot`, { name: slotName }, viaProvider);
            streaming[host.config.name] = host.step(`${name}-${host.config.name}-follow`, {
                script: followStep({
                    ...files(host),
                    roleConf: {
                        role: "replica",
                        // With a pair, the VIP leads to whichever node runs PostgreSQL.
                        primaryAddress: args.pairStorage?.vip ?? args.primary.config.address,
                        primaryPort: args.port,
                        replicationUser: REPLICATION_ROLE,
                        applicationName: host.config.name,
                        slotName,
                        passfile: `${platformFor(host.config.os).postgres.home}/.pgpass`,
                    },
                }),
            }, { ...parent, dependsOn: [slot, replicationRole, this.primaryReady] });
        }
        this.replicasStreaming = streaming;

        if (args.replication === "sync" && args.replicas.length > 0) {
            // Only now: a synchronous primary without a streaming replica would block every commit.
            args.primary.step(`${name}-synchronous`, {
                script: synchronousStep({
                    ...files(args.primary),
                    roleConf: { role: "primary", synchronousStandbys: args.replicas.map(h => h.config.name) },
                }),
            }, { ...parent, dependsOn: [this.primaryReady, ...Object.values(streaming)] });
        }

        this.schemaLoaded = loadSchema(this, name, args.schema, args.dbName, args.dbUser, args.passwords.zabbix, [objects.database, objects.zabbixRole, ...objects.grants]);

        const placement = (h: Host) => ({ host: h.config.name, site: h.config.site });
        this.topology = peer && args.replicas.length > 0
            ? {
                primary: placement(args.primary), standbys: args.replicas.map(placement), failover: "manual", replication: args.replication,
                pair: { peer: placement(peer), fencing: true },
            }
            : peer
            ? { primary: placement(args.primary), standbys: [placement(peer)], failover: "cluster-manager", replication: "block-sync" }
            : { primary: placement(args.primary), standbys: args.replicas.map(placement), failover: "manual", replication: args.replication };
        this.registerOutputs({
            primary: args.primary.config.name,
            replicas: args.replicas.map(h => h.config.name),
            database: this.database.name,
        });
    }
}
