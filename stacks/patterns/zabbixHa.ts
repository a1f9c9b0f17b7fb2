import { PatternModule } from "./types";
import { buildInstance, buildSites, stackTopology } from "./common";

/**
 * Pattern 5, the one the study chose: Zabbix native HA nodes across L3 sites with no VIP, a
 * PostgreSQL primary streaming to replicas in other sites, frontends behind each site's own load balancer.
 */
export const zabbixHa: PatternModule = {
    id: 5,
    name: "zabbix-ha",
    summary: "native HA nodes across sites, no VIP; DB primary + streaming replicas; a load balancer per site",
    requirements: { minSites: 2, requiredRoles: ["db", "zabbix-server", "frontend", "lb"], selfRunDatabase: true },
    deploy(config, secrets) {
        const hosts = buildSites(config, secrets.sshPrivateKey);
        const instance = buildInstance(config, hosts, {
            prefix: "",
            name: "zabbix",
            sites: config.sites.map(s => s.name),
            database: { kind: "self-run", primarySite: config.db.primarySite },
        });
        return {
            topology: stackTopology(config, this, hosts, [instance.topology]),
            uiUrls: instance.uiUrls,
        };
    },
};
