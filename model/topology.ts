/**
 * What a stack built, in terms the failure analysis understands: where each Zabbix server node,
 * database, frontend and entry point sits, and which mechanism moves each one when it fails.
 * Every pattern's stack exports one (stack output `topology`), derived from its components'
 * declared facts (`design.ts`), so the analysis follows the topology, never the pattern's name.
 */
import type { DbFailover, Placement, ReplicationKind, ServerFailover } from "../components/facts";

export type { DbFailover, Placement, ReplicationKind, ServerFailover };

export interface DatabaseTopology {
    /** The primary; for a managed database, a pseudo-host in its first zone. */
    readonly primary: Placement;
    /** Where a new primary can come from (replicas, the DRBD peer, the provider's standby zones). */
    readonly standbys: readonly Placement[];
    readonly failover: DbFailover;
    readonly replication: ReplicationKind;
    /** For "automatic": the consensus members; a node leads only while it reaches a majority of them. */
    readonly quorum?: readonly Placement[];
    /** For "automatic": the consensus member whose leadership is kept (a witness); absent when nothing keeps it anywhere. */
    readonly quorumLeader?: Placement;
    /** A DRBD fallback pair for the primary in its own site: a cluster manager moves it to the peer first. */
    readonly pair?: { readonly peer: Placement; readonly fencing: boolean };
}

/** A cluster manager (Pacemaker) that moves DB, server and web together between two nodes. */
export interface ClusterManagerTopology {
    readonly nodes: readonly Placement[];
    /** Site whose L2 segment carries the VIP; the VIP works only while the group runs there. */
    readonly vipSite: string;
    /** Whether fencing is configured; without it the manager must not take over. */
    readonly fencing: boolean;
}

/** Where users reach the UI: a site's load balancer (which may use other sites' frontends), or a VIP. */
export type EntryPoint =
    | { readonly kind: "load-balancer"; readonly host: string; readonly site: string }
    | { readonly kind: "vip"; readonly site: string };

/** How Zabbix servers and frontends reach the database. */
export type DbAccess = "site-load-balancer" | "vip" | "managed-endpoint";

/** One independent Zabbix installation: its own configuration, history and alerts. */
export interface InstanceTopology {
    readonly name: string;
    readonly servers: readonly Placement[];
    readonly serverFailover: ServerFailover;
    readonly database: DatabaseTopology;
    readonly frontends: readonly Placement[];
    readonly entryPoints: readonly EntryPoint[];
    readonly dbAccess: DbAccess;
    /** Load balancers by site, for the site-load-balancer DB path. */
    readonly loadBalancers: readonly Placement[];
    readonly clusterManager?: ClusterManagerTopology;
}

export interface Topology {
    readonly pattern: { readonly id: number; readonly name: string };
    readonly sites: readonly { readonly name: string; readonly l2Segment: boolean }[];
    /** Every host the stack deploys onto; `cloud` hosts are rented instances. */
    readonly hosts: readonly (Placement & { readonly roles: readonly string[]; readonly cloud: boolean })[];
    readonly instances: readonly InstanceTopology[];
    /** Configuration copied from one instance to the others on a timer (the vendor's paid sync). */
    readonly configSync?: {
        readonly source: string;
        readonly targets: readonly string[];
        readonly intervalSeconds: number;
    };
    /** Managed databases rented from a cloud provider. */
    readonly managedDatabases: number;
    readonly failoverDelaySeconds: number;
    /** Proxies and agents in front of the servers, when the stack has any. */
    readonly dataPath?: DataPathTopology;
}

/** The data path: proxy groups, their proxies, and the agents that send through them. */
export interface DataPathTopology {
    /** Each group: its proxies by host name, its failover_delay and its min_online. */
    readonly proxyGroups: readonly {
        readonly name: string;
        readonly proxies: readonly string[];
        readonly failoverDelaySeconds: number;
        readonly minOnline: number;
    }[];
    /** Each proxy: its group, its Server= (the cluster's nodes, or its VIP), and its offline buffer. */
    readonly proxies: readonly (Placement & {
        readonly group: string;
        readonly server: string;
        /** ProxyOfflineBuffer: hours it keeps values it could not send to a server; older ones are dropped. */
        readonly offlineBufferHours: number;
    })[];
    /** Each agent: its ServerActive=, its group (absent when it reports to the servers), and its persistent buffer. */
    readonly agents: readonly (Placement & {
        readonly serverActive: string;
        readonly group?: string;
        /** PersistentBufferPeriod: seconds it keeps values no proxy or server took; older ones are dropped. */
        readonly persistentBufferPeriodSeconds: number;
    })[];
}
