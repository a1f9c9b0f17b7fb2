/**
 * The names and addresses each host's certificate carries: what its clients put in the host they
 * connect to, and so what verify-full checks. Pure: from the validated configuration.
 */
import { PlacedHost, StackConfig, hostsWithRole } from "../config/types";

export interface CertificateNames {
    readonly dnsNames: readonly string[];
    readonly ipAddresses: readonly string[];
}

/**
 * A host is reached by its name and address. A DB host is also reached through every load
 * balancer (Zabbix servers and frontends connect to their site's load balancer's DB port, which
 * passes the TLS session through to the primary), so its certificate carries every load
 * balancer's name and address; a node of a DRBD pair is reached at the pair's VIP.
 */
export function certificateNames(config: StackConfig, host: PlacedHost): CertificateNames {
    const dns = new Set([host.name]);
    const ips = new Set([host.address]);
    if (host.roles.includes("db")) {
        for (const lb of hostsWithRole(config, "lb")) {
            dns.add(lb.name);
            ips.add(lb.address);
        }
    }
    // Patroni reaches its own PostgreSQL as localhost (its local replication session: the lab saw
    // "does not match host name localhost" without it) and at 127.0.0.1, verifying it like any other.
    if (host.roles.includes("db") && config.db.failover === "patroni") {
        dns.add("localhost");
        ips.add("127.0.0.1");
    }
    if (config.drbd?.nodes.includes(host.name)) {
        ips.add(config.drbd.vip);
    }
    return { dnsNames: [...dns].sort(), ipAddresses: [...ips].sort() };
}
