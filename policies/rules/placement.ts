/**
 * Where things sit: HA nodes across sites, no VIP across L3 sites, replicas away from the primary,
 * a load balancer per frontend site whose DB port follows the primary, and a witness for
 * automatic DB failover between two sites.
 */
import { StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { cidrContains } from "../../components/config/network";
import {
    DRBD_PAIR,
    FRONTEND,
    LOAD_BALANCER,
    LoadBalancerFacts,
    PATRONI,
    POSTGRES,
    PairFacts,
    RESOURCE_TYPES,
    SERVER_CLUSTER,
    SITE,
    HOST,
    SelfRunDatabaseFacts,
    factsOf,
    nameOf,
    witnessSites,
} from "./facts";

export const haNodesSpanSites: StackValidationPolicy = {
    name: "ha-nodes-span-sites",
    description: "Zabbix HA nodes of one cluster span at least two sites.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        for (const { resource, facts } of factsOf(args.resources, SERVER_CLUSTER)) {
            const sites = new Set(facts.nodes.map(n => n.site));
            if (facts.failover === "native-ha" && sites.size < 2) {
                report(
                    `Zabbix HA cluster "${nameOf(resource)}" has all ${facts.nodes.length} nodes in site ${[...sites][0]}: ` +
                        "losing that site's network stops monitoring. Give a host in a second site the zabbix-server role.",
                    resource.urn,
                );
            }
        }
    },
};

export const noVipAcrossSites: StackValidationPolicy = {
    name: "no-vip-across-l3-sites",
    description:
        "No VIP (IPaddr2 or keepalived) whose members sit in different L3 sites, or in a site without an L2 segment.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const sites = factsOf(args.resources, SITE).map(s => s.facts);
        for (const { resource, facts } of factsOf(args.resources, DRBD_PAIR)) {
            const memberSites = [...new Set(facts.nodes.map(n => n.site))];
            if (memberSites.length > 1) {
                report(
                    `VIP ${facts.vip} of "${nameOf(resource)}" has members in sites ${memberSites.join(" and ")}, joined at L3 only: ` +
                        "the address cannot move between them. Put both nodes in one site with an L2 segment, or use Zabbix native HA (no VIP).",
                    resource.urn,
                );
            }
            const home = sites.find(s => cidrContains(s.network, facts.vip));
            if (home && !home.l2Segment) {
                report(
                    `VIP ${facts.vip} of "${nameOf(resource)}" is in site ${home.site}, which has no L2 segment (l2Segment: false): ` +
                        "set l2Segment only if the site's nodes really share one, or drop the VIP.",
                    resource.urn,
                );
            }
        }
        // keepalived configurations sent to hosts: one virtual address served from several sites.
        const vipSites = new Map<string, Set<string>>();
        const hostSite = new Map(factsOf(args.resources, HOST).map(h => [h.facts.address, h.facts.site]));
        for (const command of args.resources.filter(r => r.type === RESOURCE_TYPES.command)) {
            const text = String(command.props.create ?? "");
            const block = /virtual_ipaddress\s*\{([^}]*)\}/.exec(text);
            const site = hostSite.get(String(command.props.connection?.host));
            for (const vip of block?.[1].match(/\d+\.\d+\.\d+\.\d+/g) ?? []) {
                vipSites.set(vip, new Set([...(vipSites.get(vip) ?? []), ...(site ? [site] : [])]));
            }
        }
        for (const [vip, where] of vipSites) {
            if (where.size > 1) {
                report(
                    `keepalived VIP ${vip} is configured on hosts in sites ${[...where].join(" and ")}; a VIP cannot span L3 sites.`,
                );
            }
        }
    },
};

export const replicasInOtherSites: StackValidationPolicy = {
    name: "db-replicas-in-other-sites",
    description: "Every DB replica sits in a different site from the primary.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        for (const { resource, facts } of factsOf(args.resources, POSTGRES)) {
            for (const replica of facts.replicas.filter(r => r.site === facts.primary.site)) {
                report(
                    `Replica ${replica.host} of "${nameOf(resource)}" is in site ${replica.site}, the primary's: ` +
                        "losing that site loses both. Move the replica's host to another site.",
                    resource.urn,
                );
            }
        }
    },
};

/** What sits at a DB endpoint (address and port), as the components declare it. */
type AtEndpoint =
    | { readonly kind: "load-balancer"; readonly lb: LoadBalancerFacts }
    | { readonly kind: "pair-vip"; readonly pair: string }
    | { readonly kind: "fixed-db-host"; readonly host: string; readonly cluster: string };

const endpointKey = (address: string, port: number) => `${address}:${port}`;

/**
 * Every DB endpoint the stack's components declare: each load balancer's DB port (which follows
 * the primary), each pair's VIP on its DB's port (which a cluster manager moves with the DB), and
 * PostgreSQL's own port on each DB host of a cluster in which another host can become primary.
 * A single DB host is no fixed host: there is nothing to follow.
 */
function dbEndpoints(resources: StackValidationArgs["resources"]): Map<string, AtEndpoint> {
    const at = new Map<string, AtEndpoint>();
    const clusters = selfRunDatabases(resources);
    for (const { resource, facts } of clusters) {
        const hosts = [facts.primary, ...facts.replicas, ...(facts.pairPeer ? [facts.pairPeer] : [])];
        if (hosts.length > 1) {
            hosts.forEach(h =>
                at.set(endpointKey(h.address, h.port), {
                    kind: "fixed-db-host",
                    host: h.host,
                    cluster: nameOf(resource),
                }),
            );
        }
    }
    for (const { resource, facts } of factsOf(resources, DRBD_PAIR)) {
        const db = pairDatabase(resources, facts);
        if (db) {
            at.set(endpointKey(facts.vip, db.primary.port), { kind: "pair-vip", pair: nameOf(resource) });
        }
    }
    for (const { facts } of factsOf(resources, LOAD_BALANCER)) {
        if (facts.dbServers.length > 0) {
            at.set(endpointKey(facts.address, facts.dbPort), { kind: "load-balancer", lb: facts });
        }
    }
    return at;
}

/** Every self-run database: plain PostgreSQL clusters and Patroni's. */
function selfRunDatabases(resources: StackValidationArgs["resources"]) {
    return [...factsOf(resources, POSTGRES), ...factsOf(resources, PATRONI)];
}

/** The database a pair's cluster manager runs: the cluster whose primary and peer are the pair's nodes. */
function pairDatabase(resources: StackValidationArgs["resources"], pair: PairFacts): SelfRunDatabaseFacts | undefined {
    const nodes = new Set(pair.nodes.map(n => n.host));
    return factsOf(resources, POSTGRES)
        .map(c => c.facts)
        .find(c => c.pairPeer !== undefined && nodes.has(c.primary.host) && nodes.has(c.pairPeer.host));
}

export const siteLoadBalancers: StackValidationPolicy = {
    name: "site-load-balancer",
    description:
        "Every site with a frontend has its own load balancer (or a VIP a cluster manager moves with the DB), " +
        "whose DB port routes by primary/replica role, and no server or frontend points at a fixed DB host.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const lbs = factsOf(args.resources, LOAD_BALANCER);
        const lbSites = new Set(lbs.map(l => l.facts.site));
        // A frontend on a node of a pair whose VIP moves with the DB is reached through that VIP.
        const pairs = factsOf(args.resources, DRBD_PAIR).map(p => p.facts);
        const onMovingVip = (host: string, site: string) =>
            pairs.some(
                p =>
                    p.nodes.every(n => n.site === site) &&
                    p.nodes.some(n => n.host === host) &&
                    pairDatabase(args.resources, p) !== undefined,
            );
        for (const { resource, facts } of factsOf(args.resources, FRONTEND)) {
            if (!lbSites.has(facts.site) && !onMovingVip(facts.host, facts.site)) {
                report(
                    `Site ${facts.site} has frontend ${facts.host} but no load balancer of its own, nor a VIP that a cluster manager ` +
                        "moves with the DB, so its users and servers have no entry point that follows the primary. Give a host of the site the lb role.",
                    resource.urn,
                );
            }
        }
        for (const { resource, facts } of lbs) {
            if (
                facts.dbServers.length > 0 &&
                facts.dbRouting !== "primary-check" &&
                facts.dbRouting !== "patroni-rest"
            ) {
                report(
                    `Load balancer ${facts.host} routes its DB port without asking pg_is_in_recovery(): after a DB failover ` +
                        "Zabbix would sit on a read-only replica. Use the primary check.",
                    resource.urn,
                );
            }
        }
        // A Zabbix server or frontend pointed at one DB host of a replicated cluster never follows a failover.
        // The endpoint is judged whole: on an all-roles host the load balancer's DB port and PostgreSQL's share an address.
        const endpoints = dbEndpoints(args.resources);
        const clients = [
            ...factsOf(args.resources, SERVER_CLUSTER).flatMap(s =>
                s.facts.nodes.map(n => ({ kind: "Zabbix server node", resource: s.resource, ...n })),
            ),
            ...factsOf(args.resources, FRONTEND).map(f => ({ kind: "Frontend", resource: f.resource, ...f.facts })),
        ];
        for (const client of clients) {
            const there = endpoints.get(endpointKey(client.dbHost, client.dbPort));
            if (there?.kind === "fixed-db-host") {
                const lb = lbs.find(l => l.facts.site === client.site)?.facts;
                report(
                    `${client.kind} ${client.host} reaches the DB at ${endpointKey(client.dbHost, client.dbPort)}, PostgreSQL on ${there.host}, ` +
                        `a fixed host of "${there.cluster}" that is a replica or down after a failover: point it at ` +
                        `${lb ? `its site's load balancer's DB port, ${endpointKey(lb.address, lb.dbPort)}` : "its site's load balancer"}.`,
                    client.resource.urn,
                );
            }
        }
        // The DB port's routing as rendered: an external primary check, never pgsql-check alone.
        for (const command of args.resources.filter(r => r.type === RESOURCE_TYPES.command)) {
            const text = String(command.props.create ?? "");
            const section = /listen postgres\w*\n([\s\S]*?)(?:\n\S|$)/.exec(text)?.[1];
            const byRole =
                /option external-check/.test(section ?? "") || /option httpchk GET \/primary/.test(section ?? "");
            if (section !== undefined && (!byRole || /option pgsql-check/.test(section))) {
                report(
                    `The HAProxy DB port sent by ${nameOf(command)} asks neither pg_is_in_recovery() nor Patroni's /primary.`,
                    command.urn,
                );
            }
        }
    },
};

export const dbFailoverWitness: StackValidationPolicy = {
    name: "db-failover-witness",
    description:
        "Automatic DB failover between two sites needs a witness in a third site; otherwise failover is manual and says so.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const witnesses = witnessSites(args.resources);
        const clusters = selfRunDatabases(args.resources);
        for (const { resource, facts } of clusters) {
            // A database another program declares may leave it out; the contract test holds ours to it.
            if (facts.failover === undefined) {
                report(
                    `"${nameOf(resource)}" does not declare how its DB fails over (manual or automatic).`,
                    resource.urn,
                );
                continue;
            }
            if (facts.failover === "manual") {
                continue;
            }
            const dbSites = new Set(
                [facts.primary, ...facts.replicas, ...(facts.pairPeer ? [facts.pairPeer] : [])].map(h => h.site),
            );
            const thirdSite = [...witnesses].some(site => !dbSites.has(site));
            if (dbSites.size === 2 && !thirdSite) {
                report(
                    `"${nameOf(resource)}" fails over automatically (${facts.manager ?? facts.failover}) between sites ${[...dbSites].join(" and ")} ` +
                        "with no witness in a third site: a cut between them can promote both sides (split brain). " +
                        "Add a witness site, or make failover manual.",
                    resource.urn,
                );
            }
        }
        for (const { resource, facts } of factsOf(args.resources, DRBD_PAIR)) {
            const sites = new Set(facts.nodes.map(n => n.site));
            if (sites.size === 2 && ![...witnesses].some(site => !sites.has(site))) {
                report(
                    `DRBD pair "${nameOf(resource)}" fails over automatically between sites ${[...sites].join(" and ")} with no witness in a third site.`,
                    resource.urn,
                );
            }
        }
    },
};
