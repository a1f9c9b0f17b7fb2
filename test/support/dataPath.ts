/**
 * A config with the data path: twoSiteConfig moved to Zabbix 7.0 on Debian 13, with a proxy host and
 * a monitored (agent) host in each site. The stack tests plan it; the real tests check its files.
 */
import { twoSiteConfig } from "./plan";

/** Host name and address of each site's proxy and monitored host. */
export const DATA_PATH_HOSTS = {
    east: { proxy: ["east-proxy", "198.18.1.20"], agent: ["east-app", "198.18.1.30"] },
    west: { proxy: ["west-proxy", "198.18.2.20"], agent: ["west-app", "198.18.2.30"] },
} as const;

/** twoSiteConfig on 7.0 and Debian 13, with a proxy and a monitored host per site. */
export function dataPathConfig(): Record<string, any> {
    const raw = twoSiteConfig();
    return {
        ...raw,
        zabbix: { version: "7.0", packageSource: "distribution" },
        sites: raw.sites.map((site: { name: "east" | "west"; hosts: Record<string, unknown>[] }) => {
            const extra = DATA_PATH_HOSTS[site.name];
            return {
                ...site,
                hosts: [
                    ...site.hosts.map(h => ({ ...h, os: "debian13" })),
                    { name: extra.proxy[0], address: extra.proxy[1], roles: ["proxy"], os: "debian13" },
                    { name: extra.agent[0], address: extra.agent[1], roles: ["agent"], os: "debian13" },
                ],
            };
        }),
    };
}

/** dataPathConfig with `change` applied to it. */
export function dataPathConfigWith(change: (raw: Record<string, any>) => void): Record<string, any> {
    const raw = dataPathConfig();
    change(raw);
    return raw;
}

/** Takes the proxy hosts out of a config (its agents then report to the servers). */
export function withoutProxies(raw: Record<string, any>): void {
    raw.sites.forEach(
        (s: { hosts: { roles: string[] }[] }) => (s.hosts = s.hosts.filter(h => !h.roles.includes("proxy"))),
    );
}
