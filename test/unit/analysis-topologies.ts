/**
 * Hand-built topologies for the analysis tests: the outcome must follow from where things sit and
 * how they move, so each builder states the sites, hosts and failover of one design.
 */
import { InstanceTopology, Placement, Topology } from "../../model";

/** A host in a site. */
export const at = (host: string, site: string): Placement => ({ host, site });

/** Hand-built topologies: the outcome must follow from where things sit and how they move. */
export function nativeHa(serverSites: [string, string], dbFailover: "manual" | "managed" = "manual"): Topology {
    const instance: InstanceTopology = {
        name: "zabbix",
        servers: [at("zbx-1", serverSites[0]), at("zbx-2", serverSites[1])],
        serverFailover: "native-ha",
        database: { primary: at("db-a", "a"), standbys: [at("db-b", "b")], failover: dbFailover, replication: "async" },
        frontends: [at("web-a", "a"), at("web-b", "b")],
        entryPoints: [
            { kind: "load-balancer", host: "lb-a", site: "a" },
            { kind: "load-balancer", host: "lb-b", site: "b" },
        ],
        dbAccess: "site-load-balancer",
        loadBalancers: [at("lb-a", "a"), at("lb-b", "b")],
    };
    const hosts = [
        ...instance.servers,
        instance.database.primary,
        ...instance.database.standbys,
        ...instance.frontends,
        ...instance.loadBalancers,
    ];
    return {
        pattern: { id: 5, name: "hand-built" },
        sites: [
            { name: "a", l2Segment: false },
            { name: "b", l2Segment: false },
        ],
        hosts: hosts.map(h => ({ ...h, roles: [], cloud: false })),
        instances: [instance],
        managedDatabases: 0,
        failoverDelaySeconds: 10,
    };
}

/** A DRBD + Pacemaker pair with its nodes in the given sites, behind a VIP. */
export function pair(nodeSites: [string, string]): Topology {
    const nodes = [at("node-1", nodeSites[0]), at("node-2", nodeSites[1])];
    return {
        pattern: { id: 3, name: "hand-built pair" },
        sites: [
            { name: "a", l2Segment: true },
            { name: "b", l2Segment: false },
        ],
        hosts: nodes.map(h => ({ ...h, roles: [], cloud: false })),
        instances: [
            {
                name: "zabbix",
                servers: nodes,
                serverFailover: "cluster-manager",
                database: {
                    primary: nodes[0],
                    standbys: [nodes[1]],
                    failover: "cluster-manager",
                    replication: "block-sync",
                },
                frontends: nodes,
                entryPoints: [{ kind: "vip", site: "a" }],
                dbAccess: "vip",
                loadBalancers: [],
                clusterManager: { nodes, vipSite: "a", fencing: true },
            },
        ],
        managedDatabases: 0,
        failoverDelaySeconds: 10,
    };
}

/** Two independent installations, one per site, each with its own server, DB and load balancer. */
export function standalonePair(): Topology {
    const site = (s: string): InstanceTopology => ({
        name: s,
        servers: [at(`zbx-${s}`, s)],
        serverFailover: "native-ha",
        database: { primary: at(`db-${s}`, s), standbys: [], failover: "manual", replication: "async" },
        frontends: [at(`web-${s}`, s)],
        entryPoints: [{ kind: "load-balancer", host: `lb-${s}`, site: s }],
        dbAccess: "site-load-balancer",
        loadBalancers: [at(`lb-${s}`, s)],
    });
    const instances = [site("a"), site("b")];
    return {
        pattern: { id: 1, name: "hand-built standalone" },
        sites: [
            { name: "a", l2Segment: false },
            { name: "b", l2Segment: false },
        ],
        hosts: instances
            .flatMap(i => [...i.servers, i.database.primary, ...i.frontends, ...i.loadBalancers])
            .map(h => ({ ...h, roles: [], cloud: false })),
        instances,
        managedDatabases: 0,
        failoverDelaySeconds: 10,
    };
}

/** A copy of a one-instance topology with its instance changed. */
export function withInstance(topology: Topology, change: (i: InstanceTopology) => Partial<InstanceTopology>): Topology {
    return { ...topology, instances: [{ ...topology.instances[0], ...change(topology.instances[0]) }] };
}
