import { serviceSites } from "../../components/config";
import { PatternModule } from "./types";
import { buildInstance, buildSites, stackTopology } from "./common";

/** Every site's complete installation, as patterns 1 and 2 build it. */
export function perSiteInstances(config: Parameters<PatternModule["deploy"]>[0], hosts: ReturnType<typeof buildSites>) {
    return serviceSites(config).map(site => buildInstance(config, hosts, {
        prefix: `${site.name}-`,
        name: site.name,
        sites: [site.name],
        database: { kind: "self-run", primarySite: site.name },
    }));
}

/** A complete Zabbix in every site (but witness sites): patterns 1 and 2. */
export const PER_SITE_REQUIREMENTS = {
    minSites: 2,
    requiredRoles: ["db", "zabbix-server", "frontend", "lb"],
    rolesInEverySite: ["db", "zabbix-server", "frontend", "lb"],
    selfRunDatabase: true,
} as const;

/**
 * Pattern 1: a complete Zabbix (server, DB, frontend) per site, each behind its site's load
 * balancer. Nothing fails over; every site monitors everything, so data and alerts are duplicated.
 */
export const standalone: PatternModule = {
    id: 1,
    name: "standalone",
    summary: "a complete Zabbix per site; no failover; duplicated data and alerts, double management",
    requirements: PER_SITE_REQUIREMENTS,
    deploy(config, secrets) {
        const hosts = buildSites(config, secrets.sshPrivateKey);
        const instances = perSiteInstances(config, hosts);
        return {
            topology: stackTopology(config, this, hosts, instances.map(i => i.topology)),
            uiUrls: Object.assign({}, ...instances.map(i => i.uiUrls)),
        };
    },
};
