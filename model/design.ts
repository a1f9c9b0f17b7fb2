/**
 * The model's topology, derived from what the components declare and nothing else: a stack names
 * which components form each installation (its design), and the mechanisms, standbys and entry
 * points follow from their facts. The components never speak the model's vocabulary themselves.
 */
import type {
    AgentFacts,
    FrontendFacts,
    HostFacts,
    LoadBalancerFacts,
    ManagedDatabaseFacts,
    PairFacts,
    Placement,
    ProxyFacts,
    SelfRunDatabaseFacts,
    ServerClusterFacts,
    SiteFacts,
    ZabbixObjectsFacts,
} from "../components/facts";
import type { AgentSizing, ProxySizing } from "../components/sizing";
import { ClusterManagerTopology, DataPathTopology, DatabaseTopology, InstanceTopology, Topology } from "./topology";

/** One installation's components, by their facts. */
export interface InstanceDesign {
    /** The installation's name (a site's, for a per-site pattern). */
    readonly name: string;
    /** Its server cluster: the nodes and how one takes over. */
    readonly servers: ServerClusterFacts;
    /** Its database: one the stack runs (PostgreSQL, Patroni), or a provider's managed one. */
    readonly database: { readonly selfRun: SelfRunDatabaseFacts } | { readonly managed: ManagedDatabaseFacts };
    /** Its frontends. */
    readonly frontends: readonly FrontendFacts[];
    /** Its sites' load balancers (none behind a pair's VIP). */
    readonly loadBalancers: readonly LoadBalancerFacts[];
    /** A DRBD pair under the database: the fallback pair, or pattern 3's whole pair. */
    readonly pair?: PairFacts;
}

/** The proxies and agents in front of the servers, by their facts, and the proxy groups they form. */
export interface DataPathDesign {
    /** The deployed proxy groups (those with a deployed proxy), as the topology holds them. */
    readonly proxyGroups: DataPathTopology["proxyGroups"];
    /** Each deployed proxy's facts. */
    readonly proxies: readonly ProxyFacts[];
    /** Each deployed agent's facts. */
    readonly agents: readonly AgentFacts[];
    /** The steps that make their Zabbix objects through the API, one per installation that has any. */
    readonly objects?: readonly ZabbixObjectsFacts[];
}

/** A stack's design: its sites and hosts, its installations, and what joins them. */
export interface StackDesign {
    /** The pattern that built it (Topology's `pattern`). */
    readonly pattern: { readonly id: number; readonly name: string };
    /** Every configured site, those the pattern deploys nothing to included. */
    readonly sites: readonly Pick<SiteFacts, "site" | "l2Segment">[];
    /** Every host the stack deploys onto, by its facts. */
    readonly hosts: readonly HostFacts[];
    /** Whether the hosts are rented cloud instances. */
    readonly cloud: boolean;
    /** Its independent installations. */
    readonly instances: readonly InstanceDesign[];
    /** Configuration copied from one installation to the others, by installation name. */
    readonly configSync?: NonNullable<Topology["configSync"]>;
    /** Proxies and agents, when the stack has `proxy` or `agent` hosts. */
    readonly dataPath?: DataPathDesign;
}

const placement = (p: Placement): Placement => ({ host: p.host, site: p.site });

/** The pseudo-host the model places a managed database's primary or standby on, one per zone. */
export function managedZoneHost(zone: string): Placement {
    return { host: `managed-postgresql@${zone}`, site: zone };
}

/** Where the primary and its standbys are, and how a new primary appears, from the database's facts. */
export function databaseTopology(database: InstanceDesign["database"], pair?: PairFacts): DatabaseTopology {
    if ("managed" in database) {
        const zones = database.managed.zones;
        return {
            primary: managedZoneHost(zones[0]),
            standbys: zones.slice(1).map(managedZoneHost),
            failover: "managed",
            replication: "managed",
        };
    }
    const db = database.selfRun;
    const base = { primary: placement(db.primary), failover: db.failover, replication: db.replication };
    if (db.failover === "cluster-manager") {
        // The pair alone: its peer is the standby, the disk moves with the manager.
        return { ...base, standbys: db.pairPeer ? [placement(db.pairPeer)] : [] };
    }
    return {
        ...base,
        standbys: db.replicas.map(placement),
        ...(db.quorum ? { quorum: db.quorum.map(placement) } : {}),
        ...(db.quorumLeader ? { quorumLeader: placement(db.quorumLeader) } : {}),
        ...(db.pairPeer ? { pair: { peer: placement(db.pairPeer), fencing: pair?.fencing.enabled ?? false } } : {}),
    };
}

/** The installation as the model reads it. */
export function instanceTopology(design: InstanceDesign): InstanceTopology {
    const { servers, pair } = design;
    const managedDb = "managed" in design.database;
    // A cluster manager that runs the server runs the whole group behind the pair's VIP.
    const clusterManager: ClusterManagerTopology | undefined =
        servers.failover === "cluster-manager" && pair
            ? { nodes: pair.nodes.map(placement), vipSite: pair.vipSite, fencing: pair.fencing.enabled }
            : undefined;
    return {
        name: design.name,
        servers: servers.nodes.map(placement),
        serverFailover: servers.failover,
        database: databaseTopology(design.database, pair),
        frontends: design.frontends.map(placement),
        entryPoints: clusterManager
            ? [{ kind: "vip", site: clusterManager.vipSite }]
            : design.loadBalancers.map(lb => ({ kind: "load-balancer" as const, host: lb.host, site: lb.site })),
        dbAccess: managedDb ? "managed-endpoint" : clusterManager ? "vip" : "site-load-balancer",
        loadBalancers: design.loadBalancers.map(placement),
        ...(clusterManager ? { clusterManager } : {}),
    };
}

/** The stack's topology from its design. */
export function topologyOf(design: StackDesign): Topology {
    return {
        pattern: design.pattern,
        sites: design.sites.map(s => ({ name: s.site, l2Segment: s.l2Segment })),
        hosts: design.hosts.map(h => ({ host: h.host, site: h.site, roles: [...h.roles], cloud: design.cloud })),
        instances: design.instances.map(instanceTopology),
        configSync: design.configSync,
        managedDatabases: design.instances.filter(i => "managed" in i.database).length,
        // One setting of the stack's, which every installation's servers declare.
        failoverDelaySeconds: Math.max(0, ...design.instances.map(i => i.servers.failoverDelaySeconds)),
        ...(design.dataPath ? { dataPath: dataPathTopology(design.dataPath) } : {}),
    };
}

/** Where the proxies and agents sit, which group each is in, and where each sends its values. */
function dataPathTopology(d: DataPathDesign): DataPathTopology {
    return {
        proxyGroups: d.proxyGroups,
        proxies: d.proxies.map(p => ({
            ...placement(p),
            installation: p.installation,
            group: p.group,
            server: p.server,
            offlineBufferHours: sized<ProxySizing>(p, "offlineBufferHours"),
        })),
        agents: d.agents.map(a => ({
            ...placement(a),
            installation: a.installation,
            serverActive: a.serverActive,
            ...(a.group !== undefined ? { group: a.group } : {}),
            persistentBufferPeriodSeconds: sized<AgentSizing>(a, "persistentBufferPeriodSeconds"),
        })),
    };
}

/** One figure of a proxy's or agent's declared sizing (components/sizing), as the component rendered it. */
function sized<S>(
    facts: { readonly host: string; readonly sizing: Readonly<Record<string, number>> },
    key: keyof S & string,
): number {
    const value = facts.sizing[key];
    if (value === undefined) {
        throw new Error(`${facts.host} declares no ${key} in its sizing`);
    }
    return value;
}
