/**
 * Where things sit: HA nodes across sites, no VIP across L3 sites, replicas away from the primary,
 * a load balancer per frontend site whose DB port follows the primary, and a witness for
 * automatic DB failover between two sites.
 */
import { StackValidationPolicy } from "@pulumi/policy";
import { cidrContains } from "../../components/config/network";
import {
    FrontendFacts, LoadBalancerFacts, PairFacts, PostgresFacts, ServerFacts, SiteFacts, TYPES, factsOf, nameOf, witnessSites,
} from "./facts";

export const haNodesSpanSites: StackValidationPolicy = {
    name: "ha-nodes-span-sites",
    description: "Zabbix HA nodes of one cluster span at least two sites.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        for (const { resource, facts } of factsOf<ServerFacts>(args.resources, TYPES.servers)) {
            const sites = new Set(facts.nodes.map(n => n.site));
            if (facts.failover === "native-ha" && sites.size < 2) {
                report(`Zabbix HA cluster "${nameOf(resource)}" has all ${facts.nodes.length} nodes in site ${[...sites][0]}: `
                    + "losing that site's network stops monitoring. Give a host in a second site the zabbix-server role.", resource.urn);
            }
        }
    },
};

export const noVipAcrossSites: StackValidationPolicy = {
    name: "no-vip-across-l3-sites",
    description: "No VIP (IPaddr2 or keepalived) whose members sit in different L3 sites, or in a site without an L2 segment.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const sites = factsOf<SiteFacts>(args.resources, TYPES.site).map(s => s.facts);
        for (const { resource, facts } of factsOf<PairFacts>(args.resources, TYPES.pair)) {
            const memberSites = [...new Set(facts.nodes.map(n => n.site))];
            if (memberSites.length > 1) {
                report(`VIP ${facts.vip} of "${nameOf(resource)}" has members in sites ${memberSites.join(" and ")}, joined at L3 only: `
                    + "the address cannot move between them. Put both nodes in one site with an L2 segment, or use Zabbix native HA (no VIP).", resource.urn);
            }
            const home = sites.find(s => cidrContains(s.network, facts.vip));
            if (home && !home.l2Segment) {
                report(`VIP ${facts.vip} of "${nameOf(resource)}" is in site ${home.site}, which has no L2 segment (l2Segment: false): `
                    + "set l2Segment only if the site's nodes really share one, or drop the VIP.", resource.urn);
            }
        }
        // keepalived configurations sent to hosts: one virtual address served from several sites.
        const vipSites = new Map<string, Set<string>>();
        const hostSite = new Map(factsOf<{ address: string; site: string }>(args.resources, TYPES.host).map(h => [h.facts.address, h.facts.site]));
        for (const command of args.resources.filter(r => r.type === TYPES.command)) {
            const text = String(command.props.create ?? "");
            const block = /virtual_ipaddress\s*\{([^}]*)\}/.exec(text);
            const site = hostSite.get(String(command.props.connection?.host));
            for (const vip of block?.[1].match(/\d+\.\d+\.\d+\.\d+/g) ?? []) {
                vipSites.set(vip, new Set([...(vipSites.get(vip) ?? []), ...(site ? [site] : [])]));
            }
        }
        for (const [vip, where] of vipSites) {
            if (where.size > 1) {
                report(`keepalived VIP ${vip} is configured on hosts in sites ${[...where].join(" and ")}; a VIP cannot span L3 sites.`);
            }
        }
    },
};

export const replicasInOtherSites: StackValidationPolicy = {
    name: "db-replicas-in-other-sites",
    description: "Every DB replica sits in a different site from the primary.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        for (const { resource, facts } of factsOf<PostgresFacts>(args.resources, TYPES.postgres)) {
            for (const replica of facts.replicas.filter(r => r.site === facts.primary.site)) {
                report(`Replica ${replica.host} of "${nameOf(resource)}" is in site ${replica.site}, the primary's: `
                    + "losing that site loses both. Move the replica's host to another site.", resource.urn);
            }
        }
    },
};

export const siteLoadBalancers: StackValidationPolicy = {
    name: "site-load-balancer",
    description: "Every site with a frontend has its own load balancer, whose DB port routes by primary/replica role, not to a fixed address.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const lbs = factsOf<LoadBalancerFacts>(args.resources, TYPES.loadBalancer);
        const lbSites = new Set(lbs.map(l => l.facts.site));
        for (const { resource, facts } of factsOf<FrontendFacts>(args.resources, TYPES.frontend)) {
            if (!lbSites.has(facts.site)) {
                report(`Site ${facts.site} has frontend ${facts.host} but no load balancer of its own, so its users and servers `
                    + "have no entry point that follows the primary by role. Give a host of the site the lb role.", resource.urn);
            }
        }
        for (const { resource, facts } of lbs) {
            if (facts.dbServers.length > 0 && facts.dbRouting !== "primary-check" && facts.dbRouting !== "patroni-rest") {
                report(`Load balancer ${facts.host} routes its DB port without asking pg_is_in_recovery(): after a DB failover `
                    + "Zabbix would sit on a read-only replica. Use the primary check.", resource.urn);
            }
        }
        // A Zabbix server or frontend pointed at one DB host of a replicated cluster never follows a failover.
        const dbAddresses = new Map<string, string>();
        for (const { facts } of factsOf<PostgresFacts>(args.resources, TYPES.postgres)) {
            if (facts.replicas.length > 0) {
                [facts.primary, ...facts.replicas].forEach(h => dbAddresses.set(h.address, h.host));
            }
        }
        const clients = [
            ...factsOf<ServerFacts>(args.resources, TYPES.servers).flatMap(s => s.facts.nodes.map(n => ({ resource: s.resource, host: n.host, dbHost: n.dbHost }))),
            ...factsOf<FrontendFacts>(args.resources, TYPES.frontend).map(f => ({ resource: f.resource, host: f.facts.host, dbHost: f.facts.dbHost })),
        ];
        for (const client of clients.filter(c => dbAddresses.has(c.dbHost))) {
            report(`${client.host} reaches the DB at ${client.dbHost} (${dbAddresses.get(client.dbHost)}), a fixed DB host: point it at its site's load balancer.`, client.resource.urn);
        }
        // The DB port's routing as rendered: an external primary check, never pgsql-check alone.
        for (const command of args.resources.filter(r => r.type === TYPES.command)) {
            const text = String(command.props.create ?? "");
            const section = /listen postgres\w*\n([\s\S]*?)(?:\n\S|$)/.exec(text)?.[1];
            const byRole = /option external-check/.test(section ?? "") || /option httpchk GET \/primary/.test(section ?? "");
            if (section !== undefined && (!byRole || /option pgsql-check/.test(section))) {
                report(`The HAProxy DB port sent by ${nameOf(command)} asks neither pg_is_in_recovery() nor Patroni's /primary.`, command.urn);
            }
        }
    },
};

export const dbFailoverWitness: StackValidationPolicy = {
    name: "db-failover-witness",
    description: "Automatic DB failover between two sites needs a witness in a third site; otherwise failover is manual and says so.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const witnesses = witnessSites(args.resources);
        const clusters = [...factsOf<PostgresFacts>(args.resources, TYPES.postgres), ...factsOf<PostgresFacts>(args.resources, TYPES.patroni)];
        for (const { resource, facts } of clusters) {
            if (facts.failover === undefined) {
                report(`"${nameOf(resource)}" does not declare how its DB fails over (manual or automatic).`, resource.urn);
                continue;
            }
            if (facts.failover === "manual") {
                continue;
            }
            const dbSites = new Set([facts.primary, ...facts.replicas, ...(facts.pairPeer ? [facts.pairPeer] : [])].map(h => h.site));
            const thirdSite = [...witnesses].some(site => !dbSites.has(site));
            if (dbSites.size === 2 && !thirdSite) {
                report(`"${nameOf(resource)}" fails over automatically (${facts.failover}) between sites ${[...dbSites].join(" and ")} `
                    + "with no witness in a third site: a cut between them can promote both sides (split brain). "
                    + "Add a witness site, or make failover manual.", resource.urn);
            }
        }
        for (const { resource, facts } of factsOf<PairFacts>(args.resources, TYPES.pair)) {
            const sites = new Set(facts.nodes.map(n => n.site));
            if (sites.size === 2 && ![...witnesses].some(site => !sites.has(site))) {
                report(`DRBD pair "${nameOf(resource)}" fails over automatically between sites ${[...sites].join(" and ")} with no witness in a third site.`, resource.urn);
            }
        }
    },
};
