import { allHosts, hostsWithRole } from "../../components/config";
import { platformFor } from "../../components/platform";
import { buildDrbdPair, buildPki, buildSites, stackDesign, withFirewalls } from "./common";
import { withDataPath } from "./dataPath";
import { buildInstance } from "./instance";
import { PatternModule } from "./types";

/**
 * Pattern 5, the one the study chose: Zabbix native HA nodes across L3 sites with no VIP, a
 * PostgreSQL primary streaming to replicas in other sites, frontends behind each site's own load
 * balancer; optionally a DRBD fallback pair for the primary inside its site.
 */
export const zabbixHa: PatternModule = {
    id: 5,
    name: "zabbix-ha",
    summary: "native HA nodes across sites, no VIP; DB primary + streaming replicas; a load balancer per site",
    studyChoice:
        "pattern 3 without its VIP: native HA moves the active server between sites joined at L3 only, " +
        "and a DB and a load balancer in each site keep the UI reachable through the loss of a server, a site's network or its uplink",
    requirements: { minSites: 2, requiredRoles: ["db", "zabbix-server", "frontend", "lb"], selfRunDatabase: true },
    async deploy(config, secrets) {
        const pairNodes: readonly string[] = config.db.fallbackPair ? config.drbd!.nodes : [];
        const patroni = config.db.failover === "patroni";
        const repository = config.db.patroniRepository;
        const pki = buildPki(config, secrets.pkiCaPrivateKey);
        const hosts = await buildSites(config, secrets.sshPrivateKey, pki, {
            extraPackages: Object.fromEntries([
                ...allHosts(config)
                    .filter(h => pairNodes.includes(h.name))
                    .map(h => [h.name, platformFor(h.os).packages.pair]),
                // etcd members (DB hosts and witnesses) and Patroni (DB hosts), from the distribution's packages.
                ...(patroni ? hostsWithRole(config, "db").map(h => [h.name, platformFor(h.os).packages.patroni]) : []),
                ...(patroni
                    ? hostsWithRole(config, "witness").map(h => [h.name, platformFor(h.os).packages.etcd])
                    : []),
            ]),
            // A Patroni new enough not to lose commits after a site cut, where the distribution's is older.
            extraRepositories:
                patroni && repository
                    ? Object.fromEntries(
                          hostsWithRole(config, "db").map(h => [
                              h.name,
                              [{ name: "patroni", repository, packages: ["patroni"] }],
                          ]),
                      )
                    : undefined,
        });
        // The fallback pair runs PostgreSQL only; servers and frontends stay on their own hosts.
        const pair = config.db.fallbackPair
            ? buildDrbdPair("zabbix-db-pair", config, hosts, { web: [] }, secrets.fencePassword)
            : undefined;
        const instance = buildInstance(config, hosts, {
            prefix: "",
            name: "zabbix",
            sites: config.sites.map(s => s.name),
            database: { kind: "self-run", primarySite: config.db.primarySite, pair },
            superAdminPasswordHash: secrets.superAdmin.bcryptHash,
        });
        return withFirewalls(config, hosts, {
            design: withDataPath(
                config,
                hosts,
                stackDesign(config, this, hosts, [instance.design]),
                [instance],
                secrets.superAdmin.password,
            ),
            caCertificate: pki.caCertPem,
            uiUrls: instance.uiUrls,
        });
    },
};
