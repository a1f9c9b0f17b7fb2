/**
 * The data path in front of the servers (issue 17): a proxy group that survives the loss of a site,
 * and agents that hand their values to their group's proxies once, not once per proxy. Both read
 * the proxies' and agents' declared facts (ZABBIX_PROXY, ZABBIX_AGENT) and the server clusters'.
 */
import { StackValidationPolicy } from "@pulumi/policy";
import { SERVER_CLUSTER, ZABBIX_AGENT, ZABBIX_PROXY, factsOf, nameOf } from "./facts";
import { serverGroups } from "./zabbix";

/**
 * Mandatory: a proxy group whose installation's servers span sites must have proxies in two sites
 * at least, or losing the one site stops the data of every host the group monitors. An installation
 * in one site (patterns 1 and 2: one per site) has nothing to move to, so its group is not asked to.
 */
export const proxyGroupsSpanSites: StackValidationPolicy = {
    name: "proxy-group-spans-sites",
    description: "A proxy group's proxies sit in at least two sites when its servers do.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const clusters = factsOf(args.resources, SERVER_CLUSTER).map(c => c.facts);
        const groups = new Map<string, { sites: Set<string>; serverSites: Set<string>; urn: string }>();
        for (const { resource, facts } of factsOf(args.resources, ZABBIX_PROXY)) {
            const addresses = new Set(serverGroups(facts.server).flat());
            const cluster = clusters.find(c => c.nodes.some(n => addresses.has(n.address)));
            const group = groups.get(facts.group) ?? { sites: new Set(), serverSites: new Set(), urn: resource.urn };
            group.sites.add(facts.site);
            cluster?.nodes.forEach(n => group.serverSites.add(n.site));
            groups.set(facts.group, group);
        }
        for (const [name, g] of groups) {
            if (g.serverSites.size > 1 && g.sites.size < 2) {
                report(
                    `Proxy group "${name}" has proxies in ${[...g.sites].join(", ")} only, while its servers span ` +
                        `${[...g.serverSites].sort().join(", ")}: losing that site stops the data of every host it monitors. ` +
                        "Add a proxy host in another site to the group (zabbix.proxyGroups).",
                    g.urn,
                );
            }
        }
    },
};

/**
 * Mandatory: an agent of a proxy group names exactly that group's proxies in ServerActive, separated
 * by ";" (one cluster: the group redirects it to the proxy that monitors it). A "," makes each entry a
 * server of its own, so every value goes to every proxy; a proxy left out cannot hand it over when
 * the listed ones are down.
 */
export const agentsUseTheirGroup: StackValidationPolicy = {
    name: "agent-server-active-proxy-group",
    description:
        "An agent's ServerActive lists its proxy group's proxies separated by \";\", all of them, nothing else.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const proxies = factsOf(args.resources, ZABBIX_PROXY).map(p => p.facts);
        for (const { resource, facts } of factsOf(args.resources, ZABBIX_AGENT)) {
            if (!facts.group) {
                continue;
            }
            const wanted = proxies
                .filter(p => p.group === facts.group)
                .map(p => p.address)
                .sort();
            const listed = serverGroups(facts.serverActive);
            const named = [...new Set(listed.flat())].sort();
            const problems = [
                ...(listed.length > 1 ? ['"," between entries sends every value to each of them; use ";"'] : []),
                ...(JSON.stringify(named) !== JSON.stringify(wanted)
                    ? [
                          `it names ${named.join(", ") || "nothing"}, the group's proxies are ${wanted.join(", ") || "none"}`,
                      ]
                    : []),
            ];
            if (problems.length > 0) {
                report(
                    `Agent ${facts.host} (${nameOf(resource)}) of proxy group "${facts.group}": ServerActive=${facts.serverActive}: ${problems.join("; ")}.`,
                    resource.urn,
                );
            }
        }
    },
};
