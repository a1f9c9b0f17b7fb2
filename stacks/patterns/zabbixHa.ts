import { posix } from "path";
import { StackConfig, hostsWithRole } from "../../components/config";
import { DRBD_RESOURCE, DrbdPair, pacemakerIds } from "../../components/drbd";
import { Host } from "../../components/host";
import { platformFor } from "../../components/platform";
import { FallbackPair, buildInstance, buildSites, stackTopology } from "./common";
import { CLUSTER_PACKAGES } from "./pacemaker";
import { PatternModule } from "./types";

/** etcd members (DB hosts and witnesses) and Patroni (DB hosts), from the distribution's packages. */
export const ETCD_PACKAGES = ["etcd-server", "etcd-client"];
export const PATRONI_PACKAGES = [...ETCD_PACKAGES, "patroni", "python3-etcd"];

/**
 * The optional DRBD + Pacemaker pair that holds the primary inside its site (db.fallbackPair): a DB
 * host's crash then fails over to its peer behind a VIP on the site's L2 segment, automatically.
 */
function fallbackPair(config: StackConfig, hosts: ReadonlyMap<string, Host>): FallbackPair {
    const drbd = config.drbd!;
    const [first, second] = drbd.nodes.map(n => hosts.get(n)!);
    const postgres = platformFor(first.config.os).postgres;
    const services = { postgres: postgres.service, web: [] };
    const pair = new DrbdPair("zabbix-db-pair", {
        nodes: [first, second],
        preferredNode: first.config.name,
        vip: { address: drbd.vip, cidrNetmask: drbd.vipPrefixLength },
        disk: drbd.disk,
        metaDisk: drbd.metaDisk,
        port: drbd.port,
        mountPoint: posix.dirname(postgres.dataDir),
        services,
        fencing: drbd.fencing,
    });
    return {
        nodes: drbd.nodes,
        vip: drbd.vip,
        mountPoint: posix.dirname(postgres.dataDir),
        dbResource: pacemakerIds({ drbdResource: DRBD_RESOURCE, services }).db,
        ready: pair.configured,
    };
}

/**
 * Pattern 5, the one the study chose: Zabbix native HA nodes across L3 sites with no VIP, a
 * PostgreSQL primary streaming to replicas in other sites, frontends behind each site's own load
 * balancer; optionally a DRBD fallback pair for the primary inside its site.
 */
export const zabbixHa: PatternModule = {
    id: 5,
    name: "zabbix-ha",
    summary: "native HA nodes across sites, no VIP; DB primary + streaming replicas; a load balancer per site",
    requirements: { minSites: 2, requiredRoles: ["db", "zabbix-server", "frontend", "lb"], selfRunDatabase: true },
    deploy(config, secrets) {
        const pairNodes = config.db.fallbackPair ? config.drbd!.nodes : [];
        const patroni = config.db.failover === "patroni";
        const hosts = buildSites(config, secrets.sshPrivateKey, {
            extraPackages: Object.fromEntries([
                ...pairNodes.map(n => [n, CLUSTER_PACKAGES]),
                ...(patroni ? hostsWithRole(config, "db").map(h => [h.name, PATRONI_PACKAGES]) : []),
                ...(patroni ? hostsWithRole(config, "witness").map(h => [h.name, ETCD_PACKAGES]) : []),
            ]),
        });
        const pair = config.db.fallbackPair ? fallbackPair(config, hosts) : undefined;
        const instance = buildInstance(config, hosts, {
            prefix: "",
            name: "zabbix",
            sites: config.sites.map(s => s.name),
            database: { kind: "self-run", primarySite: config.db.primarySite, pair },
        });
        return {
            topology: stackTopology(config, this, hosts, [instance.topology]),
            uiUrls: instance.uiUrls,
        };
    },
};
