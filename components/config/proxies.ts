/**
 * Reader of `zabbix.proxyGroups`, and the checks of the `proxy` and `agent` roles: where a proxy may
 * run, which Zabbix series has proxy groups, and that each group can survive what it is for (the
 * loss of one proxy, or of one site).
 */
import { parseZabbixDuration } from "./duration";
import { Reader } from "./reader";
import { LABEL } from "./sections";
import { FAILOVER_DELAY_MAX_SECONDS, FAILOVER_DELAY_MIN_SECONDS } from "./zabbix";
import { PlacedHost, ProxyGroupConfig, SiteConfig, ZabbixVersion, hostsWithRole } from "./types";

/** Zabbix's range of a group's min_online. */
const MIN_ONLINE_MAX = 1000;

/** What the proxy checks need from the rest of the configuration. */
export interface ProxyContext {
    readonly sites: readonly SiteConfig[];
    /** The Zabbix series, when zabbix.version read cleanly. */
    readonly version?: ZabbixVersion;
    /**
     * Every site runs an installation of its own (patterns 1 and 2): a proxy reports to its own
     * site's, so a group cannot span sites.
     */
    readonly installationPerSite: boolean;
}

/** The config path of a host (`sites[i].hosts[j]`). */
function hostPath(sites: readonly SiteConfig[], name: string): string {
    for (const [i, site] of sites.entries()) {
        const j = site.hosts.findIndex(h => h.name === name);
        if (j >= 0) {
            return `sites[${i}].hosts[${j}]`;
        }
    }
    return "sites";
}

/**
 * Hosts that may not carry the proxy role: a Zabbix server host (Debian's zabbix-proxy-* packages
 * conflict with zabbix-server-*, so apt would remove the server to install the proxy, and both listen
 * on zabbix.listenPort).
 */
function checkProxyHosts(r: Reader, context: ProxyContext, proxies: readonly PlacedHost[]): void {
    for (const proxy of proxies.filter(p => p.roles.includes("zabbix-server"))) {
        r.problem(
            `${hostPath(context.sites, proxy.name)}.roles`,
            `${proxy.name} has both proxy and zabbix-server: Debian's zabbix-proxy packages conflict with zabbix-server's ` +
                "(apt would remove the server to install the proxy), and both listen on zabbix.listenPort; put the proxy on a host of its own",
        );
    }
    if (proxies.length > 0 && context.version === "6.0") {
        r.problem(
            "zabbix.version",
            `6.0 has no proxy groups, and ${proxies.map(p => p.name).join(", ")} carry the proxy role: on 6.0 a host is ` +
                "monitored by exactly one proxy, so losing that proxy or its site stops the host's data until an operator moves it. " +
                "Use zabbix.version 7.0, or remove the proxy role (agents then report to the servers)",
        );
    }
}

/** The default groups: one of every proxy, or one per site when each site runs its own installation. */
function defaultGroups(context: ProxyContext, proxies: readonly PlacedHost[]): ProxyGroupConfig[] {
    const group = (name: string, members: readonly PlacedHost[]): ProxyGroupConfig => ({
        name,
        proxies: members.map(p => p.name).sort(),
        failoverDelaySeconds: 60,
        minOnline: 1,
    });
    if (proxies.length === 0) {
        return [];
    }
    if (!context.installationPerSite) {
        return [group("all-sites", proxies)];
    }
    const sites = [...new Set(proxies.map(p => p.site))];
    return sites.map(site =>
        group(
            `${site}-proxies`,
            proxies.filter(p => p.site === site),
        ),
    );
}

/** One configured group, checked against the proxy hosts; undefined when it does not read cleanly. */
function readGroup(
    r: Reader,
    raw: unknown,
    path: string,
    proxies: readonly PlacedHost[],
    claimed: Map<string, string>,
): ProxyGroupConfig | undefined {
    const node = r.object(raw, path, ["name", "proxies", "failoverDelay", "minOnline"]);
    if (!node) {
        return undefined;
    }
    const before = r.problemCount();
    const name = r.string(node, "name", path);
    if (name !== undefined && !LABEL.test(name)) {
        r.problem(`${path}.name`, `"${name}" is not a valid name (lower-case letters, digits and "-")`);
    }
    const members = readMembers(r, node.proxies, `${path}.proxies`, proxies, claimed);
    const delay = parseZabbixDuration(node.failoverDelay ?? "1m");
    if (delay === undefined || delay < FAILOVER_DELAY_MIN_SECONDS || delay > FAILOVER_DELAY_MAX_SECONDS) {
        r.problem(
            `${path}.failoverDelay`,
            `${JSON.stringify(node.failoverDelay)} is not a duration in Zabbix's range of a group's failover_delay (10s to 15m)`,
        );
    }
    const minOnline = r.integer(node, "minOnline", path, 1, 1, MIN_ONLINE_MAX);
    if (members && members.length > 0 && minOnline !== undefined && minOnline > members.length) {
        r.problem(
            `${path}.minOnline`,
            `${minOnline} is more than the group's ${members.length} prox${members.length === 1 ? "y" : "ies"}: the group could never be online`,
        );
    }
    if (r.problemCount() > before || name === undefined || !members || delay === undefined) {
        return undefined;
    }
    return { name, proxies: members, failoverDelaySeconds: delay, minOnline: minOnline! };
}

/** A group's proxies: host names of proxy hosts, each in one group only; all of them when not given. */
function readMembers(
    r: Reader,
    value: unknown,
    path: string,
    proxies: readonly PlacedHost[],
    claimed: Map<string, string>,
): string[] | undefined {
    if (!Array.isArray(value) || value.length === 0) {
        r.problem(path, "expected a non-empty list of the group's proxy hosts");
        return undefined;
    }
    const members: string[] = [];
    value.forEach((name, k) => {
        const at = `${path}[${k}]`;
        if (typeof name !== "string" || !proxies.some(p => p.name === name)) {
            r.problem(
                at,
                `${JSON.stringify(name)} is not a host with the proxy role (proxies: ${proxies.map(p => p.name).join(", ") || "none"})`,
            );
        } else if (claimed.has(name)) {
            r.problem(at, `${name} is already in ${claimed.get(name)}: a Zabbix proxy belongs to one group`);
        } else {
            claimed.set(name, path);
            members.push(name);
        }
    });
    return members.sort();
}

/**
 * A group's proxies must sit in two sites or more, so that losing a site leaves the group a proxy
 * to move its hosts to; where each site runs its own installation a group is one site's, since a
 * proxy reports to its own site's servers.
 */
function checkGroupSites(
    r: Reader,
    context: ProxyContext,
    group: ProxyGroupConfig,
    path: string,
    proxies: readonly PlacedHost[],
): void {
    const sites = [...new Set(group.proxies.map(name => proxies.find(p => p.name === name)!.site))];
    if (context.installationPerSite && sites.length > 1) {
        r.problem(
            path,
            `group ${group.name} spans sites ${sites.join(", ")}, but this pattern runs one Zabbix per site and a proxy ` +
                "reports to its own site's: a group's proxies must sit in one site",
        );
    } else if (!context.installationPerSite && sites.length < 2) {
        r.problem(
            path,
            `${path === "zabbix.proxyGroups" ? "the default " : ""}group ${group.name} has proxies in ${sites[0]} only: losing that site stops the data of every host the group ` +
                "monitors, as there is no proxy left to move them to; add a proxy host in another site to the group",
        );
    }
}

/**
 * The proxy groups: `zabbix.proxyGroups` as configured, or the default ones. Reports a proxy host that
 * no group holds, and an agent whose site offers no group (or two) to report through.
 */
export function readProxyGroups(r: Reader, value: unknown, context: ProxyContext): ProxyGroupConfig[] | undefined {
    const path = "zabbix.proxyGroups";
    const proxies = hostsWithRole(context, "proxy");
    checkProxyHosts(r, context, proxies);
    const before = r.problemCount();
    let groups: ProxyGroupConfig[];
    if (value === undefined || value === null) {
        groups = defaultGroups(context, proxies);
        groups.forEach(g => checkGroupSites(r, context, g, path, proxies));
    } else if (!Array.isArray(value)) {
        r.problem(path, "expected a list of proxy groups (name, proxies, failoverDelay, minOnline)");
        return undefined;
    } else if (proxies.length === 0) {
        r.problem(path, "is set, but no host has the proxy role");
        return undefined;
    } else {
        const claimed = new Map<string, string>();
        const names = new Map<string, string>();
        groups = value.flatMap((raw, i) => {
            const group = readGroup(r, raw, `${path}[${i}]`, proxies, claimed);
            if (group && names.has(group.name)) {
                r.problem(`${path}[${i}].name`, `duplicate group name "${group.name}" (also ${names.get(group.name)})`);
            }
            if (group) {
                names.set(group.name, `${path}[${i}].name`);
                checkGroupSites(r, context, group, `${path}[${i}].proxies`, proxies);
            }
            return group ? [group] : [];
        });
        const left = proxies.filter(p => !claimed.has(p.name));
        if (left.length > 0 && r.problemCount() === before) {
            r.problem(
                path,
                `${left.map(p => p.name).join(", ")} ${left.length === 1 ? "is" : "are"} in no group: a proxy outside a group has no other proxy to hand its hosts to`,
            );
        }
    }
    if (r.problemCount() > before) {
        return undefined;
    }
    checkAgents(r, context, groups, proxies);
    return groups;
}

/** The group an agent reports through: the one with a proxy in its site, else the only one; none without proxies. */
export function agentGroup(
    agent: PlacedHost,
    groups: readonly ProxyGroupConfig[],
    proxies: readonly PlacedHost[],
): ProxyGroupConfig | undefined {
    const local = groups.filter(g => g.proxies.some(name => proxies.find(p => p.name === name)?.site === agent.site));
    return local.length === 1 ? local[0] : local.length === 0 && groups.length === 1 ? groups[0] : undefined;
}

/** Every agent must know which group to report through, when there are groups. */
function checkAgents(
    r: Reader,
    context: ProxyContext,
    groups: readonly ProxyGroupConfig[],
    proxies: readonly PlacedHost[],
): void {
    if (groups.length === 0) {
        return;
    }
    for (const agent of hostsWithRole(context, "agent")) {
        if (!agentGroup(agent, groups, proxies)) {
            const local = groups.filter(g =>
                g.proxies.some(name => proxies.find(p => p.name === name)?.site === agent.site),
            );
            r.problem(
                `${hostPath(context.sites, agent.name)}.roles`,
                local.length > 1
                    ? `the agent on ${agent.name} could report through ${local.map(g => g.name).join(" or ")} (each has a proxy in ${agent.site}): ` +
                          "give each site's proxies one group"
                    : `the agent on ${agent.name} has no proxy group to report through: none has a proxy in ${agent.site}, and there are several; ` +
                          "add a proxy in its site to one group",
            );
        }
    }
}
