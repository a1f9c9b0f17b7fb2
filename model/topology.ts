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
    /** How a new primary appears: an operator, a cluster manager, a consensus majority, or the provider. */
    readonly failover: DbFailover;
    /** How the standbys follow the primary, which decides what a failover may lose. */
    readonly replication: ReplicationKind;
    /** For "automatic": the consensus members; a node leads only while it reaches a majority of them. */
    readonly quorum?: readonly Placement[];
    /** For "automatic": the consensus member whose leadership is kept (a witness); absent when nothing keeps it anywhere. */
    readonly quorumLeader?: Placement;
    /** A DRBD fallback pair for the primary in its own site: a cluster manager moves it to the peer first. */
    readonly pair?: {
        /** The pair's other node, which takes the primary over. */
        readonly peer: Placement;
        /** Whether the pair fences: without it the manager must not take over. */
        readonly fencing: boolean;
    };
}

/** A cluster manager (Pacemaker) that moves DB, server and web together between two nodes. */
export interface ClusterManagerTopology {
    /** The two nodes the group moves between. */
    readonly nodes: readonly Placement[];
    /** Site whose L2 segment carries the VIP; the VIP works only while the group runs there. */
    readonly vipSite: string;
    /** Whether fencing is configured; without it the manager must not take over. */
    readonly fencing: boolean;
}

/** Where users reach the UI: a site's load balancer (which may use other sites' frontends), or a VIP. */
export type EntryPoint =
    | {
          readonly kind: "load-balancer";
          /** The load balancer's host. */
          readonly host: string;
          /** Its site: users there reach the UI through it. */
          readonly site: string;
      }
    | {
          readonly kind: "vip";
          /** The site whose L2 segment carries the VIP. */
          readonly site: string;
      };

/** How Zabbix servers and frontends reach the database. */
export type DbAccess = "site-load-balancer" | "vip" | "managed-endpoint";

/** One independent Zabbix installation: its own configuration, history and alerts. */
export interface InstanceTopology {
    /** Its name (a site's, for a per-site pattern); proxies and agents name it as the one they report to. */
    readonly name: string;
    /** Its Zabbix server nodes. */
    readonly servers: readonly Placement[];
    /** How a standby node takes over from the active one, if any does. */
    readonly serverFailover: ServerFailover;
    /** Its database: where the primary is, and how a new one appears. */
    readonly database: DatabaseTopology;
    /** Its frontends, behind the entry points. */
    readonly frontends: readonly Placement[];
    /** Where users reach its UI. */
    readonly entryPoints: readonly EntryPoint[];
    /** How its servers and frontends reach the database. */
    readonly dbAccess: DbAccess;
    /** Load balancers by site, for the site-load-balancer DB path. */
    readonly loadBalancers: readonly Placement[];
    /** The cluster manager that moves DB, server and web together (pattern 3), when there is one. */
    readonly clusterManager?: ClusterManagerTopology;
}

/** What a stack built, as the failure analysis reads it (the stack output `topology`). */
export interface Topology {
    /** The pattern that built it, for the reports; the analysis never reads it. */
    readonly pattern: {
        /** Its number (1 to 5). */
        readonly id: number;
        /** Its name, as the config's `pattern`. */
        readonly name: string;
    };
    /** Every configured site. */
    readonly sites: readonly {
        /** The site's name. */
        readonly name: string;
        /** Whether its hosts share one L2 segment, which a VIP needs. */
        readonly l2Segment: boolean;
    }[];
    /** Every host the stack deploys onto. */
    readonly hosts: readonly (Placement & {
        /** Its roles in the config (`db`, `zabbix-server`, `proxy`, ...). */
        readonly roles: readonly string[];
        /** Whether it is a rented cloud instance, which the cost counts. */
        readonly cloud: boolean;
    })[];
    /** Its independent Zabbix installations. */
    readonly instances: readonly InstanceTopology[];
    /** Configuration copied from one instance to the others on a timer (the vendor's paid sync). */
    readonly configSync?: {
        /** The installation configuration is read from. */
        readonly source: string;
        /** The installations it is copied to. */
        readonly targets: readonly string[];
        /** How often it is copied: a change waits up to this long to reach the targets. */
        readonly intervalSeconds: number;
    };
    /** Managed databases rented from a cloud provider. */
    readonly managedDatabases: number;
    /** The servers' failover delay: how long a standby node waits before it takes over. */
    readonly failoverDelaySeconds: number;
    /** Proxies and agents in front of the servers, when the stack has any. */
    readonly dataPath?: DataPathTopology;
}

/** The data path: proxy groups, their proxies, and the agents that send through them. */
export interface DataPathTopology {
    /** Each group: its proxies by host name, its failover_delay and its min_online. */
    readonly proxyGroups: readonly {
        /** The group's name in Zabbix. */
        readonly name: string;
        /** Its proxies, by host name. */
        readonly proxies: readonly string[];
        /** failover_delay: how long a proxy is silent before the server moves its hosts to the group's others. */
        readonly failoverDelaySeconds: number;
        /** min_online: the fewest online proxies the group needs to move hosts at all. */
        readonly minOnline: number;
    }[];
    /** Each proxy: its installation, its group, its Server= (the cluster's nodes, or its VIP), and its offline buffer. */
    readonly proxies: readonly (Placement & {
        /** The installation it reports to, by name (as its facts declare it). */
        readonly installation: string;
        /** Its proxy group. */
        readonly group: string;
        /** Server= of its zabbix_proxy.conf: the installation's nodes separated by ";", or its VIP. */
        readonly server: string;
        /** ProxyOfflineBuffer: hours it keeps values it could not send to a server; older ones are dropped. */
        readonly offlineBufferHours: number;
    })[];
    /** Each agent: its installation, its ServerActive=, its group (absent when it reports to the servers), and its persistent buffer. */
    readonly agents: readonly (Placement & {
        /** The installation it reports to, by name (as its facts declare it). */
        readonly installation: string;
        /** ServerActive= of its zabbix_agent2.conf: its group's proxies, or the installation's nodes, separated by ";". */
        readonly serverActive: string;
        /** Its proxy group; absent when it reports to the servers. */
        readonly group?: string;
        /** PersistentBufferPeriod: seconds it keeps values no proxy or server took; older ones are dropped. */
        readonly persistentBufferPeriodSeconds: number;
    })[];
}
