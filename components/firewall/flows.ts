/**
 * Which flows each host admits, derived from what the pattern built (its components' facts) and
 * the ports those components listen on: a DB host admits its PostgreSQL port from the load
 * balancers that route to it, its DB peers and the admin network, a load balancer its DB port from
 * the servers and frontends configured with it, and so on. Nothing here is keyed by pattern: a host
 * added to the topology adds its flows wherever its role is reached. Pure: facts in, flows out.
 *
 * Adding a source of traffic: write a FlowRule that returns its grants and add it to FLOW_RULES
 * (issue 17's proxies and agents are `dataPath`); the merge, the ruleset and its checks take it from there.
 */
import { StackConfig } from "../config/types";
import { cidrContains, compareAddresses } from "../config/network";
import { COROSYNC_KNET_PORT } from "../drbd/corosync";
import {
    AgentFacts,
    DbHostFacts,
    FrontendFacts,
    HostFacts,
    LoadBalancerFacts,
    ManagedDatabaseFacts,
    PairFacts,
    ProxyFacts,
    SelfRunDatabaseFacts,
    ServerClusterFacts,
    ZabbixObjectsFacts,
} from "../facts";
import { UI_HTTPS_PORT } from "../loadbalancer/ports";
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT } from "../postgres/etcdEnvironment";
import { PATRONI_REST_PORT } from "../postgres/patroniYml";

/** One installation as the firewall reads it: the model's InstanceDesign has this shape. */
export interface FirewallInstance {
    readonly servers: ServerClusterFacts;
    readonly database: { readonly selfRun: SelfRunDatabaseFacts } | { readonly managed: ManagedDatabaseFacts };
    readonly frontends: readonly FrontendFacts[];
    readonly loadBalancers: readonly LoadBalancerFacts[];
    readonly pair?: PairFacts;
}

/** What a stack built, as the firewall reads it (the model's StackDesign has this shape). */
export interface FirewallDesign {
    readonly hosts: readonly HostFacts[];
    readonly instances: readonly FirewallInstance[];
    /** The proxies and agents, when there are any. */
    readonly dataPath?: {
        readonly proxies: readonly Pick<ProxyFacts, "host" | "server">[];
        readonly agents: readonly Pick<AgentFacts, "host" | "serverActive">[];
        /** The hosts that run the Zabbix objects steps: clients of the load balancers' UI. */
        readonly objects?: readonly Pick<ZabbixObjectsFacts, "host">[];
    };
}

/** What the flows are derived from. */
export interface FlowInput {
    readonly design: FirewallDesign;
    /** Ports and the networks outside the stack (db.adminNetwork, the firewall section). */
    readonly config: Pick<StackConfig, "sites" | "db" | "zabbix" | "loadBalancer" | "frontend" | "drbd" | "firewall">;
    /** Hosts of the stack that reach every load balancer's UI, beyond users (pattern 2's config sync). */
    readonly uiClients?: readonly string[];
}

/** Where traffic comes from: a host of the stack, a configured network, or anywhere. */
export type FlowSource =
    | { readonly kind: "host"; readonly host: string; readonly address: string }
    | { readonly kind: "network"; readonly cidr: string; readonly setting: string }
    | { readonly kind: "any"; readonly setting: string };

export type Protocol = "tcp" | "udp";

/** One rule's worth: a port that a host admits from some sources, and what listens there. */
export interface Grant {
    /** The host that admits it. */
    readonly to: string;
    readonly service: string;
    readonly protocol: Protocol;
    readonly port: number;
    readonly from: readonly FlowSource[];
}

/** A port a host admits, with every service behind it and every source, merged and ordered. */
export interface Flow {
    readonly protocol: Protocol;
    readonly port: number;
    readonly services: readonly string[];
    /** Sources, ordered by address; "any" when one of them is anywhere. */
    readonly sources: readonly FlowSource[] | "any";
}

/** A host's flows, ordered by port. */
export interface HostFlows {
    readonly host: string;
    readonly roles: readonly string[];
    readonly flows: readonly Flow[];
}

/** The facts and lookups every rule uses. */
export interface FlowContext extends FlowInput {
    /** The stack's hosts at an address: a host, or a pair's nodes for its VIP. */
    readonly at: (address: string) => readonly HostFacts[];
    readonly host: (name: string) => HostFacts;
    /** The sources for host names, skipping the one that admits (traffic to itself stays on lo). */
    readonly hosts: (names: Iterable<string>) => FlowSource[];
    readonly networks: (setting: string, sources: readonly string[] | "any") => FlowSource[];
    readonly admin: FlowSource[];
}

/** Derives some of the grants from the context. */
export type FlowRule = (c: FlowContext) => Grant[];

const grant = (to: string, service: string, protocol: Protocol, port: number, from: readonly FlowSource[]): Grant => ({
    to,
    service,
    protocol,
    port,
    from,
});

/** Every DB host of a self-run database: its primary, replicas and the primary's pair peer. */
function dbHostsOf(i: FirewallInstance): DbHostFacts[] {
    if (!("selfRun" in i.database)) {
        return [];
    }
    const d = i.database.selfRun;
    return [d.primary, ...d.replicas, ...(d.pairPeer ? [d.pairPeer] : [])];
}

/** SSH on every host, from the admin network and the deployer's (firewall.sshFrom). */
const ssh: FlowRule = c =>
    c.design.hosts.map(h =>
        grant(h.host, "ssh", "tcp", sshPort(c, h.host), [
            ...c.admin,
            ...c.networks("firewall.sshFrom", c.config.firewall.sshFrom),
        ]),
    );

/**
 * The DB endpoint each server node and frontend is configured with (its site's load balancer, a
 * pair's VIP): the host there admits it. The admin network reaches every load balancer's DB port
 * that leads to a DB (the provider's session, an operator's psql); a managed endpoint is no host.
 */
const dbEndpoints: FlowRule = c =>
    c.design.instances.flatMap(i => {
        const clients = [
            ...i.servers.nodes.map(n => ({ host: n.host, dbHost: n.dbHost, dbPort: n.dbPort })),
            ...i.frontends,
        ];
        const toClients = clients.flatMap(client =>
            c.at(client.dbHost).map(to => {
                const lb = i.loadBalancers.some(l => l.address === client.dbHost && l.dbPort === client.dbPort);
                return grant(to.host, lb ? "lb-db" : "postgresql", "tcp", client.dbPort, c.hosts([client.host]));
            }),
        );
        const admin = i.loadBalancers
            .filter(lb => lb.dbServers.length > 0)
            .map(lb => grant(lb.host, "lb-db", "tcp", lb.dbPort, c.admin));
        return [...toClients, ...admin];
    });

/**
 * PostgreSQL on every DB host: from the load balancers that route to the DB (their checks and the
 * sessions they forward), the other DB hosts (replication, and any of them may become the primary),
 * and the admin network (pg_hba admits its superuser login). Patroni's REST API likewise, where
 * Patroni runs: the load balancers ask it who leads.
 */
const dbServers: FlowRule = c =>
    c.design.instances.flatMap(i => {
        const dbHosts = dbHostsOf(i);
        const balancers = i.loadBalancers.filter(lb => lb.dbServers.length > 0);
        const patroni = "selfRun" in i.database && i.database.selfRun.manager === "patroni";
        const peers = dbHosts.map(h => h.host);
        return dbHosts.flatMap(h => [
            grant(h.host, "postgresql", "tcp", h.port, [
                ...c.hosts(balancers.map(lb => lb.host)),
                ...c.hosts(peers),
                ...c.admin,
            ]),
            ...(patroni
                ? [
                      grant(h.host, "patroni-rest", "tcp", PATRONI_REST_PORT, [
                          ...c.hosts(balancers.filter(lb => lb.dbRouting === "patroni-rest").map(lb => lb.host)),
                          ...c.hosts(peers),
                          ...c.admin,
                      ]),
                  ]
                : []),
        ]);
    });

/** etcd: clients are Patroni on the DB hosts and the members themselves; peers are members only. */
const etcd: FlowRule = c =>
    c.design.instances.flatMap(i => {
        const quorum = "selfRun" in i.database ? (i.database.selfRun.quorum ?? []) : [];
        const members = quorum.map(m => m.host);
        const patroni = dbHostsOf(i).map(h => h.host);
        return members.flatMap(m => [
            grant(m, "etcd-client", "tcp", ETCD_CLIENT_PORT, c.hosts([...members, ...patroni])),
            grant(m, "etcd-peer", "tcp", ETCD_PEER_PORT, c.hosts(members)),
        ]);
    });

/**
 * The UI: every load balancer's HTTP and HTTPS ports from users (and the stack's own UI clients: the
 * hosts that run the Zabbix objects step, pattern 2's config sync);
 * a frontend's nginx port from the load balancers that list it, or from users where none does (a
 * pair serving the UI on its VIP).
 */
const ui: FlowRule = c =>
    c.design.instances.flatMap(i => {
        const users = [
            ...c.networks("firewall.usersNetwork", c.config.firewall.usersNetwork),
            ...c.hosts([...(c.uiClients ?? []), ...(c.design.dataPath?.objects ?? []).map(o => o.host)]),
        ];
        const balancers = i.loadBalancers.flatMap(lb => [
            grant(lb.host, "ui-http", "tcp", c.config.loadBalancer.httpPort, users),
            grant(lb.host, "ui-https", "tcp", UI_HTTPS_PORT, users),
        ]);
        const frontends = i.frontends.map(f => {
            const fronting = i.loadBalancers.filter(lb =>
                [...lb.localFrontends, ...lb.remoteFrontends].includes(f.host),
            );
            return grant(
                f.host,
                "frontend",
                "tcp",
                c.config.frontend.port,
                fronting.length > 0 ? c.hosts(fronting.map(lb => lb.host)) : users,
            );
        });
        return [...balancers, ...frontends];
    });

/**
 * The server nodes' listenPort: the frontends ask the active node for its status and queue (native
 * HA nodes talk to each other only through the DB), the monitored hosts' agents and senders
 * (firewall.monitoredNetwork) send their values.
 */
const serverTrapper: FlowRule = c =>
    c.design.instances.flatMap(i =>
        i.servers.nodes.map(n =>
            grant(n.host, "zabbix-server", "tcp", c.config.zabbix.listenPort, [
                ...c.hosts(i.frontends.map(f => f.host)),
                ...c.networks("firewall.monitoredNetwork", c.config.firewall.monitoredNetwork),
            ]),
        ),
    );

/** A DRBD pair: the replication link and corosync's knet link, between the two nodes only. */
const pair: FlowRule = c =>
    c.design.instances.flatMap(i => {
        const p = i.pair;
        const port = c.config.drbd?.port;
        if (!p || port === undefined) {
            return [];
        }
        const nodes = p.nodes.map(n => n.host);
        return nodes.flatMap(n => [
            grant(n, "drbd", "tcp", port, c.hosts(nodes)),
            grant(n, "corosync", "udp", COROSYNC_KNET_PORT, c.hosts(nodes)),
        ]);
    });

/**
 * The data path: each proxy reaches the `address:port` entries of its Server= (the cluster's nodes,
 * or a pair's VIP), each agent those of its ServerActive= (its group's proxies, or the nodes); the
 * hosts there admit it. A proxy also admits the monitored network's agents and senders.
 */
const dataPath: FlowRule = c => {
    const d = c.design.dataPath;
    if (!d) {
        return [];
    }
    const port = c.config.zabbix.listenPort;
    const proxies = new Set(d.proxies.map(p => p.host));
    const senders = [
        ...d.proxies.map(p => ({ host: p.host, targets: p.server })),
        ...d.agents.map(a => ({ host: a.host, targets: a.serverActive })),
    ];
    return [
        ...senders.flatMap(sender =>
            sender.targets.split(";").flatMap(target => {
                const [address, targetPort] = target.split(":");
                return c
                    .at(address)
                    .map(h =>
                        grant(
                            h.host,
                            proxies.has(h.host) ? "zabbix-proxy" : "zabbix-server",
                            "tcp",
                            targetPort ? Number(targetPort) : port,
                            c.hosts([sender.host]),
                        ),
                    );
            }),
        ),
        ...d.proxies.map(p =>
            grant(
                p.host,
                "zabbix-proxy",
                "tcp",
                port,
                c.networks("firewall.monitoredNetwork", c.config.firewall.monitoredNetwork),
            ),
        ),
    ];
};

/** Every rule, each a kind of traffic; a new kind is a new rule here. */
export const FLOW_RULES: readonly FlowRule[] = [ssh, dbEndpoints, dbServers, etcd, ui, serverTrapper, pair, dataPath];

function sshPort(c: FlowInput, host: string): number {
    const h = c.config.sites.flatMap(s => s.hosts).find(x => x.name === host);
    if (!h) {
        throw new Error(`host ${host} is in the design but not in the config`);
    }
    return h.sshPort;
}

function contextOf(input: FlowInput): FlowContext {
    const byName = new Map(input.design.hosts.map(h => [h.host, h]));
    const vips = input.design.instances.flatMap(i => (i.pair ? [i.pair] : []));
    const host = (name: string) => {
        const h = byName.get(name);
        if (!h) {
            throw new Error(`${name} is named by a component but is not a host of the design`);
        }
        return h;
    };
    const networks = (setting: string, sources: readonly string[] | "any"): FlowSource[] =>
        sources === "any" ? [{ kind: "any", setting }] : sources.map(cidr => ({ kind: "network", cidr, setting }));
    return {
        ...input,
        host,
        at: address => [
            ...input.design.hosts.filter(h => h.address === address),
            ...vips.filter(p => p.vip === address).flatMap(p => p.nodes.map(n => host(n.host))),
        ],
        hosts: names => [...names].map(name => ({ kind: "host", host: name, address: host(name).address })),
        networks,
        admin: networks("db.adminNetwork", [input.config.db.adminNetwork]),
    };
}

/** Every host's flows: the rules' grants merged by port, sources deduplicated and ordered. */
export function hostFlows(input: FlowInput, rules: readonly FlowRule[] = FLOW_RULES): HostFlows[] {
    const context = contextOf(input);
    const grants = rules.flatMap(rule => rule(context));
    return input.design.hosts.map(h => ({
        host: h.host,
        roles: h.roles,
        flows: mergeGrants(
            h,
            grants.filter(g => g.to === h.host),
        ),
    }));
}

function mergeGrants(to: HostFacts, grants: readonly Grant[]): Flow[] {
    const byPort = new Map<string, Grant[]>();
    for (const g of grants) {
        const key = `${g.protocol}/${g.port}`;
        byPort.set(key, [...(byPort.get(key) ?? []), g]);
    }
    return [...byPort.values()]
        .map(group => {
            // Traffic from the host to itself arrives on lo, which the ruleset admits whole.
            const from = group.flatMap(g => g.from).filter(s => !(s.kind === "host" && s.host === to.host));
            return {
                protocol: group[0].protocol,
                port: group[0].port,
                services: [...new Set(group.map(g => g.service))].sort(),
                sources: from.some(s => s.kind === "any") ? ("any" as const) : narrowest(from),
            };
        })
        .filter(f => f.sources === "any" || f.sources.length > 0)
        .sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

/** Sources without repeats, none inside another (it would admit nothing more), by address. */
function narrowest(sources: readonly FlowSource[]): FlowSource[] {
    const cidrOf = (s: FlowSource) =>
        s.kind === "host" ? `${s.address}/32` : s.kind === "network" ? s.cidr : "0.0.0.0/0";
    // One source per network, the same whatever order the config lists things in: a host before a setting.
    const label = (s: FlowSource) => (s.kind === "host" ? `0 ${s.host}` : `1 ${s.setting}`);
    const ordered = [...sources].sort((a, b) => label(a).localeCompare(label(b)));
    const unique = [...new Map(ordered.reverse().map(s => [cidrOf(s), s])).values()];
    const inside = (a: FlowSource, b: FlowSource) => {
        const [address, bits] = cidrOf(a).split("/");
        return a !== b && Number(cidrOf(b).split("/")[1]) <= Number(bits) && cidrContains(cidrOf(b), address);
    };
    return unique
        .filter(s => !unique.some(other => inside(s, other)))
        .sort((a, b) => compareAddresses(cidrOf(a), cidrOf(b)));
}

/** A source's address or network, as the ruleset writes it. */
export function sourceAddress(s: Exclude<FlowSource, { kind: "any" }>): string {
    return s.kind === "host" ? s.address : s.cidr;
}
