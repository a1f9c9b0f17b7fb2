/**
 * What each component declares about itself, defined once: its type token and the schema of its
 * facts (the inputs it registers with the engine). The component passes its facts to `super`,
 * the policies read them off the resources they see, and the model reads them from the stack's
 * design; the types all three use come from these schemas (as pulumi-awsx derives its types from
 * one schema), so a component, a policy and the model cannot drift apart unnoticed.
 */
import { z } from "zod";

/** A component's type token and the facts it declares; `FactsOf` is their type. */
export interface ComponentDefinition<Token extends string, Facts extends z.ZodObject> {
    readonly token: Token;
    readonly facts: Facts;
}

/** The facts of a component definition, as a TypeScript type. */
export type FactsOf<D extends ComponentDefinition<string, z.ZodObject>> = z.infer<D["facts"]>;

function component<const Token extends string, Facts extends z.ZodObject>(
    token: Token,
    facts: Facts,
): ComponentDefinition<Token, Facts> {
    // Strict: a fact a component declares but the schema lacks is a drift the contract test reports.
    return { token, facts: facts.strict() as unknown as Facts };
}

/** Where a host sits. */
export const placement = z.object({ host: z.string(), site: z.string() });
/** Where a host sits and its address. */
export const placed = placement.extend({ address: z.string() });
/** A DB host, and the port its PostgreSQL listens on. */
export const dbHost = placed.extend({ port: z.number() });
/** A DB endpoint a client is configured with: an address and a port. */
const dbEndpoint = { dbHost: z.string(), dbPort: z.number() };

/** How a standby server node takes over: Zabbix's native HA, a cluster manager moving the service, or nothing. */
export const serverFailover = z.enum(["native-ha", "cluster-manager", "none"]);
/**
 * How a new DB primary appears: by an operator (db.primarySite and `pulumi up`), a cluster manager
 * moving the DRBD disk, a manager that needs a majority of its consensus store (Patroni with
 * etcd), or the cloud provider.
 */
export const dbFailover = z.enum(["manual", "cluster-manager", "automatic", "managed"]);
/** What a failover may lose: async streaming, synchronous streaming, DRBD protocol C, or the provider's scheme. */
export const replicationKind = z.enum(["async", "sync", "block-sync", "managed"]);

export const SITE = component(
    "zabbix-ha:host:Site",
    z.object({
        site: z.string(),
        network: z.string(),
        l2Segment: z.boolean(),
        /** The operator declared the site lost: its hosts are left as they are. */
        lost: z.boolean().optional(),
    }),
);

export const HOST = component(
    "zabbix-ha:host:Host",
    placed.extend({
        roles: z.array(z.string()),
        os: z.string(),
        cpus: z.number().optional(),
        memoryGiB: z.number().optional(),
    }),
);

export const LOAD_BALANCER = component(
    "zabbix-ha:loadbalancer:SiteLoadBalancer",
    placed.extend({
        /** How the DB port picks its server: by asking each one pg_is_in_recovery(), Patroni's REST API, or not at all. */
        dbRouting: z.enum(["primary-check", "patroni-rest", "none"]),
        /** The DB port on the load balancer's address, which leads to the current primary. */
        dbPort: z.number(),
        dbServers: z.array(z.string()),
        localFrontends: z.array(z.string()),
        remoteFrontends: z.array(z.string()),
    }),
);

/** A self-run database: where its primary and standbys are, who promotes a standby, how commits travel. */
const selfRunDatabase = z.object({
    primary: dbHost,
    /** Streaming replicas (in other sites for pattern 5). */
    replicas: z.array(dbHost),
    /** The DRBD peer of a fallback pair that holds the primary in its site. */
    pairPeer: dbHost.optional(),
    failover: dbFailover,
    replication: replicationKind,
    /** For an automatic failover: the program that decides, e.g. patroni. */
    manager: z.string().optional(),
    /** For an automatic failover: the consensus members; a node leads only while it reaches a majority of them. */
    quorum: z.array(placed).optional(),
    /** For an automatic failover: the consensus member its leadership is kept on (a witness), so losing a DB site elects no consensus leader. */
    quorumLeader: placed.optional(),
});

export const POSTGRES = component("zabbix-ha:postgres:PostgresCluster", selfRunDatabase);
export const PATRONI = component("zabbix-ha:postgres:PatroniCluster", selfRunDatabase);

export const MANAGED_DATABASE = component(
    "zabbix-ha:postgres:ManagedDatabase",
    z.object({
        /** host:port of the provider's endpoint. */
        endpoint: z.string(),
        /** The provider's zones, the primary's first. */
        zones: z.array(z.string()),
        failover: z.literal("managed"),
        replication: z.literal("managed"),
    }),
);

export const SERVER_CLUSTER = component(
    "zabbix-ha:zabbix:ZabbixServerCluster",
    z.object({
        /** Each node: where it sits and the DB endpoint in its zabbix_server.conf. */
        nodes: z.array(placed.extend(dbEndpoint)),
        failover: serverFailover,
        failoverDelaySeconds: z.number(),
        sizing: z.record(z.string(), z.number()),
        load: z.object({ monitoredHosts: z.number(), items: z.number(), updateIntervalSeconds: z.number() }),
        /** What agents are told: Server and ServerActive. */
        agentSettings: z.object({ Server: z.string(), ServerActive: z.string() }),
    }),
);

export const FRONTEND = component(
    "zabbix-ha:zabbix:Frontend",
    placement.extend({
        ...dbEndpoint,
        /** Who runs it: systemd, or a cluster manager on one pair node at a time. */
        runBy: z.enum(["systemd", "cluster-manager"]),
    }),
);

export const CONFIG_SYNC = component(
    "zabbix-ha:zabbix:ConfigSync",
    z.object({
        /** The API URL configuration is read from. */
        source: z.string(),
        /** The API URLs it is copied to. */
        targets: z.array(z.string()),
        intervalSeconds: z.number(),
    }),
);

export const ZABBIX_OBJECTS = component(
    "zabbix-ha:zabbix:ZabbixObjects",
    placement.extend({
        /** The JSON-RPC URL the step logs in at (https://). */
        apiUrl: z.string(),
        /** The objects it keeps there, by name: proxy groups, proxies, monitored hosts. */
        proxyGroups: z.array(z.string()),
        proxies: z.array(z.string()),
        hosts: z.array(z.string()),
    }),
);

export const DRBD_PAIR = component(
    "zabbix-ha:drbd:DrbdPair",
    z.object({
        nodes: z.array(placed),
        vip: z.string(),
        /** The site whose L2 segment carries the VIP. */
        vipSite: z.string(),
        fencing: z.object({ enabled: z.boolean(), agent: z.string(), devices: z.array(z.string()) }),
        disk: z.string(),
        metaDisk: z.string(),
    }),
);

export const PKI = component(
    "zabbix-ha:pki:StackPki",
    z.object({
        /** Whose CA signs the hosts' certificates: the stack's own, or the operator's. */
        ca: z.enum(["generated", "provided"]),
        /** How many times the keys were rotated (pki.rotation). */
        rotation: z.number(),
    }),
);

export const HOST_FIREWALL = component(
    "zabbix-ha:firewall:HostFirewall",
    placement.extend({
        /** Each port the host admits, what listens there and from where (addresses, networks, or "any"). */
        admits: z.array(
            z.object({
                protocol: z.enum(["tcp", "udp"]),
                port: z.number(),
                services: z.array(z.string()),
                sources: z.array(z.string()),
            }),
        ),
    }),
);

/**
 * What a proxy and an agent both declare: the installation it reports to, decided once where the
 * stack builds it (the one with a server in its site, else the stack's only one), so the model and
 * the lab read it instead of working it out again.
 */
const reportsTo = {
    /** The name of the installation it reports to, as in the topology's `instances`. */
    installation: z.string(),
};

export const ZABBIX_PROXY = component(
    "zabbix-ha:proxy:ZabbixProxy",
    placed.extend({
        ...reportsTo,
        /** Server= of its zabbix_proxy.conf: the cluster's nodes separated by ";", or its VIP. */
        server: z.string(),
        /** Its proxy group, which moves its hosts to the group's other proxies when it is lost. */
        group: z.string(),
        /** The group's failover_delay and min_online. */
        groupFailoverDelaySeconds: z.number(),
        groupMinOnline: z.number(),
        /** Its buffers (components/sizing: sizeProxy) and the outage they were sized for. */
        sizing: z.record(z.string(), z.number()),
        outageSeconds: z.number(),
        /** How it authenticates and what it accepts: a pre-shared key, never unencrypted. */
        tls: z.literal("psk"),
    }),
);

export const ZABBIX_AGENT = component(
    "zabbix-ha:proxy:ZabbixAgent",
    placed.extend({
        ...reportsTo,
        /** ServerActive= of its zabbix_agent2.conf: one group's proxies (or one cluster's nodes) separated by ";". */
        serverActive: z.string(),
        /** The proxy group it reports through; absent when it reports to the servers. */
        group: z.string().optional(),
        /** Its buffers (components/sizing: sizeAgent) and the outage they were sized for. */
        sizing: z.record(z.string(), z.number()),
        outageSeconds: z.number(),
        tls: z.literal("psk"),
    }),
);

/** Every component the library defines, for the contract test and the tools that list them. */
export const COMPONENTS = [
    SITE,
    HOST,
    LOAD_BALANCER,
    POSTGRES,
    PATRONI,
    MANAGED_DATABASE,
    SERVER_CLUSTER,
    FRONTEND,
    CONFIG_SYNC,
    ZABBIX_OBJECTS,
    DRBD_PAIR,
    PKI,
    HOST_FIREWALL,
    ZABBIX_PROXY,
    ZABBIX_AGENT,
] as const;

export type SiteFacts = FactsOf<typeof SITE>;
export type HostFacts = FactsOf<typeof HOST>;
export type LoadBalancerFacts = FactsOf<typeof LOAD_BALANCER>;
export type SelfRunDatabaseFacts = FactsOf<typeof POSTGRES>;
export type ManagedDatabaseFacts = FactsOf<typeof MANAGED_DATABASE>;
export type ServerClusterFacts = FactsOf<typeof SERVER_CLUSTER>;
export type FrontendFacts = FactsOf<typeof FRONTEND>;
export type ConfigSyncFacts = FactsOf<typeof CONFIG_SYNC>;
export type ZabbixObjectsFacts = FactsOf<typeof ZABBIX_OBJECTS>;
export type PairFacts = FactsOf<typeof DRBD_PAIR>;
export type PkiFacts = FactsOf<typeof PKI>;
export type HostFirewallFacts = FactsOf<typeof HOST_FIREWALL>;
export type ProxyFacts = FactsOf<typeof ZABBIX_PROXY>;
export type AgentFacts = FactsOf<typeof ZABBIX_AGENT>;
export type Placement = z.infer<typeof placement>;
export type Placed = z.infer<typeof placed>;
export type DbHostFacts = z.infer<typeof dbHost>;
export type ServerFailover = z.infer<typeof serverFailover>;
export type DbFailover = z.infer<typeof dbFailover>;
export type ReplicationKind = z.infer<typeof replicationKind>;
