/**
 * Checks that span sections, run once each section has read: DB hosts per site, each site's load
 * balancer for its Zabbix servers and frontends, and ports of services that may share a host.
 */
import { Reader } from "./reader";
import { DbConfig, DrbdConfig, FrontendConfig, LoadBalancerConfig, SiteConfig, ZabbixConfig } from "./types";

/** One DB host per site (replicas live in other sites), except the two nodes of a fallback pair. */
export function checkDbHostsPerSite(r: Reader, sites: readonly SiteConfig[], pair: DrbdConfig | undefined): void {
    sites.forEach((site, i) => {
        const dbHosts = site.hosts.filter(
            host => host.roles.includes("db") && !(pair?.site === site.name && pair.nodes.slice(1).includes(host.name)),
        );
        if (dbHosts.length > 1) {
            r.problem(
                `sites[${i}].hosts`,
                `site "${site.name}" has ${dbHosts.length} db hosts (${dbHosts.map(h => h.name).join(", ")}); ` +
                    "a site holds one DB host, and replicas live in other sites (or two, as the db.fallbackPair)",
            );
        }
    });
}

/** Services that reach the database or the UI go through their own site's load balancer. */
export function checkSiteServices(r: Reader, sites: readonly SiteConfig[]): void {
    sites.forEach((site, i) => {
        const lbs = site.hosts.filter(host => host.roles.includes("lb"));
        const clients = site.hosts.filter(
            host => host.roles.includes("zabbix-server") || host.roles.includes("frontend"),
        );
        if (lbs.length > 1) {
            r.problem(
                `sites[${i}].hosts`,
                `site "${site.name}" has ${lbs.length} lb hosts; one load balancer per site (no VIP across hosts)`,
            );
        }
        if (clients.length > 0 && lbs.length === 0) {
            r.problem(
                `sites[${i}].hosts`,
                `site "${site.name}" runs ${clients.map(h => h.name).join(", ")} but has no lb host; ` +
                    "Zabbix servers and frontends reach the DB through their own site's load balancer",
            );
        }
    });
}

/** Services that can share a host must not share a port. */
export function checkPorts(
    r: Reader,
    lb: LoadBalancerConfig,
    frontend: FrontendConfig,
    db: DbConfig,
    zabbix: ZabbixConfig | undefined,
): void {
    const ports: Array<[string, number]> = [
        ["loadBalancer.httpPort", lb.httpPort],
        ["loadBalancer.dbPort", lb.dbPort],
        ["frontend.port", frontend.port],
        ["db.port", db.port],
    ];
    if (zabbix) {
        ports.push(["zabbix.listenPort", zabbix.listenPort]);
    }
    ports.forEach(([path, port], i) => {
        const clash = ports.slice(0, i).find(([, other]) => other === port);
        if (clash) {
            r.problem(path, `port ${port} is also ${clash[0]}; a host may carry both roles`);
        }
    });
}
