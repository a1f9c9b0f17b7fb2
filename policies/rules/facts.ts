/**
 * Typed views of the facts the library's components declare as their inputs, and helpers to find
 * them among the resources a policy sees. Rules read these rather than re-deriving the design.
 */
import { PolicyResource } from "@pulumi/policy";

export const TYPES = {
    site: "zabbix-ha:host:Site",
    host: "zabbix-ha:host:Host",
    loadBalancer: "zabbix-ha:loadbalancer:SiteLoadBalancer",
    postgres: "zabbix-ha:postgres:PostgresCluster",
    patroni: "zabbix-ha:postgres:PatroniCluster",
    managedDb: "zabbix-ha:postgres:ManagedDatabase",
    servers: "zabbix-ha:zabbix:ZabbixServerCluster",
    frontend: "zabbix-ha:zabbix:Frontend",
    pair: "zabbix-ha:drbd:DrbdPair",
    command: "command:remote:Command",
    randomPassword: "random:index/randomPassword:RandomPassword",
} as const;

export interface Placed { readonly host: string; readonly site: string; readonly address: string }
export interface SiteFacts { readonly site: string; readonly network: string; readonly l2Segment: boolean }
export interface HostFacts extends Placed { readonly roles: readonly string[]; readonly cpus?: number; readonly memoryGiB?: number }
/** A DB endpoint a client is configured with: an address and a port. */
export interface DbEndpoint { readonly dbHost: string; readonly dbPort: number }
export interface LoadBalancerFacts extends Placed {
    readonly dbRouting: "primary-check" | "patroni-rest" | "none";
    /** The DB port on the load balancer's address, which leads to the current primary. */
    readonly dbPort: number;
    readonly dbServers: readonly string[];
    readonly localFrontends: readonly string[];
    readonly remoteFrontends: readonly string[];
}
/** A DB host, and the port its PostgreSQL listens on. */
export interface DbHostFacts extends Placed { readonly port: number }
export interface PostgresFacts {
    readonly primary: DbHostFacts;
    readonly replicas: readonly DbHostFacts[];
    readonly pairPeer?: DbHostFacts;
    /** "manual" (db.primarySite and pulumi up), "cluster-manager", or an automatic manager such as "patroni". */
    readonly failover?: string;
    readonly replication: string;
}
export interface PatroniFacts extends PostgresFacts {
    /** The etcd members: the DB hosts and the witnesses. */
    readonly quorum: readonly Placed[];
}
/** A Zabbix server node: where it sits and the DB endpoint in its zabbix_server.conf. */
export type ServerNodeFacts = Placed & DbEndpoint;
export interface ServerFacts {
    readonly nodes: readonly ServerNodeFacts[];
    readonly failover: "native-ha" | "cluster-manager" | "none";
    readonly failoverDelaySeconds: number;
    readonly sizing: Record<string, number>;
    readonly load: { readonly monitoredHosts: number; readonly items: number; readonly updateIntervalSeconds: number };
    readonly agentSettings: { readonly Server: string; readonly ServerActive: string };
}
/** A frontend: where it sits and the DB endpoint in its zabbix.conf.php. */
export interface FrontendFacts extends DbEndpoint { readonly host: string; readonly site: string }
export interface PairFacts {
    readonly nodes: readonly Placed[];
    readonly vip: string;
    readonly fencing: { readonly enabled: boolean; readonly agent: string; readonly devices: readonly string[] };
    readonly disk: string;
    readonly metaDisk: string;
}

/** The facts of every resource of one type, with the resource for reporting. */
export function factsOf<T>(resources: readonly PolicyResource[], type: string): { readonly resource: PolicyResource; readonly facts: T }[] {
    return resources.filter(r => r.type === type).map(resource => ({ resource, facts: resource.props as T }));
}

/** A component's own name (the last part of its URN). */
export function nameOf(resource: { urn: string; name?: string }): string {
    return resource.name ?? resource.urn.split("::").pop() ?? resource.urn;
}

/** Sites whose hosts are all witnesses. */
export function witnessSites(resources: readonly PolicyResource[]): Set<string> {
    const hosts = factsOf<HostFacts>(resources, TYPES.host).map(h => h.facts);
    const sites = new Set(hosts.map(h => h.site));
    return new Set([...sites].filter(site => hosts.filter(h => h.site === site).every(h => h.roles.every(r => r === "witness"))));
}
