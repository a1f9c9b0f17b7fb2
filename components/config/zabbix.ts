/**
 * Readers of the zabbix section (but its proxy groups: proxies.ts) and of failoverDelay: the series,
 * where its packages come from and that every Zabbix host's OS has them, the ports and intervals.
 */
import { platformFor } from "../platform";
import { parseZabbixDuration } from "./duration";
import { HTTPS_URL, checkSourceUrl } from "./packageSources";
import { Reader } from "./reader";
import { readReleasePackageSha256 } from "./releasePackage";
import { PackageSource, SiteConfig, ZABBIX_PACKAGE_ROLES, ZABBIX_VERSIONS, ZabbixConfig, ZabbixVersion } from "./types";

/** Zabbix's range of the servers' failover delay (and of a proxy group's failover_delay). */
export const FAILOVER_DELAY_MIN_SECONDS = 10;
export const FAILOVER_DELAY_MAX_SECONDS = 15 * 60;

/** The zabbix section but its proxy groups (proxies.ts reads those, once the hosts and the series are known). */
export function readZabbix(
    r: Reader,
    value: unknown,
    sites: readonly SiteConfig[],
): Omit<ZabbixConfig, "proxyGroups"> | undefined {
    const node = r.object(value, "zabbix", [
        "version",
        "packageSource",
        "repositoryUrl",
        "releasePackageSha256",
        "listenPort",
        "proxyGroups",
        "dataPathCheckInterval",
    ]);
    if (!node) {
        return undefined;
    }
    // YAML reads `7.0` as the number 7: accept the series either way.
    const rawVersion = node.version ?? "7.0";
    const version = (typeof rawVersion === "number" ? rawVersion.toFixed(1) : rawVersion) as ZabbixVersion;
    if (!ZABBIX_VERSIONS.includes(version)) {
        r.problem(
            "zabbix.version",
            `unknown Zabbix version ${JSON.stringify(rawVersion)} (supported: ${ZABBIX_VERSIONS.join(", ")})`,
        );
    }
    const packageSource = r.oneOf(node, "packageSource", "zabbix", ["vendor", "distribution"] as const, "vendor");
    const repositoryUrl = r.string(node, "repositoryUrl", "zabbix", "");
    if (packageSource === "vendor" && !repositoryUrl) {
        r.problem(
            "zabbix.repositoryUrl",
            "is required with packageSource vendor: the base URL of Zabbix's package repository or of your mirror of it",
        );
    } else if (repositoryUrl) {
        checkSourceUrl(
            r,
            "zabbix.repositoryUrl",
            repositoryUrl,
            HTTPS_URL.test(repositoryUrl)
                ? undefined
                : "an https URL (its release package is installed as root and brings the repository's signing key: https and the pinned zabbix.releasePackageSha256 both guard it)",
            true,
        );
    }
    const releasePackageSha256 = readReleasePackageSha256(
        r,
        node.releasePackageSha256,
        sites,
        packageSource === "vendor",
    );
    if (packageSource && ZABBIX_VERSIONS.includes(version)) {
        checkZabbixPackages(r, sites, version, packageSource);
    }
    // zabbix_server accepts ListenPort from 1024 to 32767 only.
    const listenPort = r.integer(node, "listenPort", "zabbix", 10051, 1024, 32767);
    // Every agent host sends one value per interval: 1 s for the lab's drills, a minute for an estate.
    const dataPathCheckSeconds = parseZabbixDuration(node.dataPathCheckInterval ?? "1m");
    if (dataPathCheckSeconds === undefined || dataPathCheckSeconds < 1 || dataPathCheckSeconds > 3600) {
        r.problem(
            "zabbix.dataPathCheckInterval",
            `${JSON.stringify(node.dataPathCheckInterval)} is not a duration from 1s to 1h (the data path check's interval)`,
        );
    }
    if (
        !ZABBIX_VERSIONS.includes(version) ||
        !packageSource ||
        listenPort === undefined ||
        dataPathCheckSeconds === undefined
    ) {
        return undefined;
    }
    return {
        version,
        packageSource,
        repositoryUrl: repositoryUrl || undefined,
        ...(releasePackageSha256 ? { releasePackageSha256 } : {}),
        listenPort,
        dataPathCheckSeconds,
    };
}

/**
 * Every host that installs Zabbix must be able to get `version` from `source` on its OS: the
 * distribution ships one series (or none), the vendor publishes its series for the OSes it builds.
 */
function checkZabbixPackages(r: Reader, sites: readonly SiteConfig[], version: ZabbixVersion, source: PackageSource) {
    sites.forEach((site, i) =>
        site.hosts.forEach((host, j) => {
            if (!host.roles.some(role => ZABBIX_PACKAGE_ROLES.includes(role))) {
                return;
            }
            const platform = platformFor(host.os);
            if (source === "distribution" && platform.distributionZabbix !== version) {
                const shipped = platform.distributionZabbix;
                const vendor = platform.vendorZabbix.includes(version) ? "use zabbix.packageSource vendor" : undefined;
                const other = shipped ? `zabbix.version ${shipped}` : undefined;
                r.problem(
                    `sites[${i}].hosts[${j}].os`,
                    `${platform.label} does not ship Zabbix ${version} (it ships ${shipped ?? "no supported series"})` +
                        (vendor || other ? `; ${[vendor, other].filter(Boolean).join(" or ")}` : ""),
                );
            } else if (source === "vendor" && !platform.vendorZabbix.includes(version)) {
                r.problem(
                    `sites[${i}].hosts[${j}].os`,
                    `the Zabbix repository has no ${version} packages for ${platform.label} ` +
                        `(it has ${platform.vendorZabbix.join(", ")})` +
                        (platform.distributionZabbix === version ? "; use zabbix.packageSource distribution" : ""),
                );
            }
        }),
    );
}

export function readFailoverDelay(r: Reader, value: unknown): number | undefined {
    const seconds = parseZabbixDuration(value ?? "1m");
    if (seconds === undefined) {
        r.problem("failoverDelay", `${JSON.stringify(value)} is not a duration (use Zabbix's syntax: "30s", "1m")`);
        return undefined;
    }
    if (seconds < FAILOVER_DELAY_MIN_SECONDS || seconds > FAILOVER_DELAY_MAX_SECONDS) {
        r.problem("failoverDelay", `${JSON.stringify(value)} is out of Zabbix's range (10s to 15m)`);
        return undefined;
    }
    return seconds;
}
