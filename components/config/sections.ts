/**
 * Readers of the small stack-wide sections: loadBalancer, frontend, load; and the form of a name
 * (sites, hosts, proxy groups). The zabbix and failoverDelay sections are zabbix.ts's, db is db.ts's.
 */
import { Reader } from "./reader";
import { FrontendConfig, LoadBalancerConfig, LoadConfig } from "./types";

/** A name's form (a DNS label): lower-case letters, digits and inner hyphens, 63 at most. */
export const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function readLoadBalancer(r: Reader, value: unknown): LoadBalancerConfig | undefined {
    const node = r.object(value, "loadBalancer", ["httpPort", "dbPort"]);
    if (!node) {
        return undefined;
    }
    const httpPort = r.integer(node, "httpPort", "loadBalancer", 80, 1, 65535);
    const dbPort = r.integer(node, "dbPort", "loadBalancer", 5433, 1, 65535);
    return httpPort !== undefined && dbPort !== undefined ? { httpPort, dbPort } : undefined;
}

export function readFrontend(r: Reader, value: unknown): FrontendConfig | undefined {
    const node = r.object(value, "frontend", ["port", "timezone"]);
    if (!node) {
        return undefined;
    }
    const port = r.integer(node, "port", "frontend", 8080, 1, 65535);
    const timezone = r.string(node, "timezone", "frontend", "UTC");
    if (timezone !== undefined && !/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(timezone)) {
        r.problem("frontend.timezone", `"${timezone}" is not a time zone name such as Asia/Tokyo`);
        return undefined;
    }
    return port !== undefined && timezone !== undefined ? { port, timezone } : undefined;
}

export function readLoad(r: Reader, value: unknown): LoadConfig | undefined {
    const node = r.object(value, "load", ["monitoredHosts", "items", "updateIntervalSeconds"]);
    if (!node) {
        return undefined;
    }
    const monitoredHosts = r.integer(node, "monitoredHosts", "load", 100, 1, 10_000_000);
    const items = r.integer(node, "items", "load", 10_000, 1, 1_000_000_000);
    const updateIntervalSeconds = r.integer(node, "updateIntervalSeconds", "load", 60, 1, 86_400);
    if (monitoredHosts === undefined || items === undefined || updateIntervalSeconds === undefined) {
        return undefined;
    }
    return { monitoredHosts, items, updateIntervalSeconds };
}
