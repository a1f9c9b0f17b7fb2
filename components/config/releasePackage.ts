/**
 * Reader of `zabbix.releasePackageSha256`: the SHA-256 of the vendor's zabbix-release package that
 * the package step installs as root (dpkg -i / rpm -U). The package carries the repository's
 * signing key, so it is the trust anchor of every Zabbix package after it: the step checks it
 * against this pin before installing it. One package per OS, so one pin per OS family of the hosts
 * that install Zabbix from the vendor: a string when they share one, else a mapping by OS.
 */
import { platformFor } from "../platform";
import { Reader } from "./reader";
import { OS_FAMILIES, OsFamily, SiteConfig } from "./types";

const KEY = "zabbix.releasePackageSha256";
const SHA256 = /^[0-9a-fA-F]{64}$/;
const HOW = "the SHA-256 of the zabbix-release package you checked (64 hex digits: `sha256sum` of the file)";

/** The OS families of the hosts that install Zabbix packages, sorted. */
function zabbixOsFamilies(sites: readonly SiteConfig[]): OsFamily[] {
    const found = new Set<OsFamily>();
    sites.forEach(s =>
        s.hosts
            .filter(h => h.roles.includes("zabbix-server") || h.roles.includes("frontend"))
            .forEach(h => found.add(h.os)),
    );
    return [...found].sort();
}

function sha256(r: Reader, path: string, value: unknown): string | undefined {
    if (typeof value !== "string" || !SHA256.test(value)) {
        r.problem(path, `${JSON.stringify(value)} is not ${HOW}`);
        return undefined;
    }
    return value.toLowerCase();
}

/**
 * The pin per OS family, lower-case: required with the vendor source for every OS family of a host
 * that installs Zabbix (nothing to pin with the distribution's packages, which apt or dnf verify
 * against the distribution's own keys).
 */
export function readReleasePackageSha256(
    r: Reader,
    value: unknown,
    sites: readonly SiteConfig[],
    vendor: boolean,
): Readonly<Partial<Record<OsFamily, string>>> | undefined {
    const families = zabbixOsFamilies(sites);
    if (!vendor) {
        if (value !== undefined) {
            r.problem(KEY, "is for packageSource vendor only: the distribution's packages are checked by apt or dnf");
        }
        return undefined;
    }
    if (value === undefined || value === null || value === "") {
        if (families.length > 0) {
            r.problem(
                KEY,
                `is required with packageSource vendor: ${HOW}` +
                    (families.length > 1 ? `, one per OS, as a mapping by OS (${families.join(", ")})` : ""),
            );
        }
        return undefined;
    }
    if (typeof value !== "string" && (typeof value !== "object" || Array.isArray(value))) {
        sha256(r, KEY, value);
        return undefined;
    }
    if (typeof value === "string") {
        if (families.length > 1) {
            r.problem(
                KEY,
                `one checksum for hosts of ${families.join(", ")}, whose release packages differ: give a mapping by OS`,
            );
            return undefined;
        }
        const pin = sha256(r, KEY, value);
        return pin && families.length === 1 ? { [families[0]]: pin } : undefined;
    }
    const node = r.object(value, KEY, OS_FAMILIES);
    if (!node) {
        return undefined;
    }
    const pins: Partial<Record<OsFamily, string>> = {};
    for (const os of families) {
        if (node[os] === undefined) {
            r.problem(`${KEY}.${os}`, `is required: ${platformFor(os).label} hosts install Zabbix; ${HOW}`);
            continue;
        }
        const pin = sha256(r, `${KEY}.${os}`, node[os]);
        if (pin) {
            pins[os] = pin;
        }
    }
    return pins;
}
