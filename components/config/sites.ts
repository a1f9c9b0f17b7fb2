/**
 * Reader of the `sites` section: the sites, their networks and hosts, each host's address, roles
 * and SSH login. Names and addresses are checked for clashes across all sites.
 */
import { replicationSlotName } from "../postgres/roles";
import { cidrContains, cidrProblem, cidrsOverlap, isIPv4 } from "./network";
import { Reader, describe } from "./reader";
import { LABEL } from "./sections";
import { hostKeyLine, parseSshHostKey } from "./sshHostKey";
import { HostConfig, OS_FAMILIES, OsFamily, ROLES, Role, SiteConfig } from "./types";

/** PostgreSQL's longest name (NAMEDATALEN - 1): a longer slot name is cut short by one call and refused by another. */
const POSTGRES_NAME_MAX = 63;

/** The sites and their hosts; a site or host that does not read cleanly is reported and left out. */
export function readSites(r: Reader, value: unknown, minSites: number): SiteConfig[] {
    if (!Array.isArray(value)) {
        r.problem(
            "sites",
            value === undefined
                ? "is required: list the sites and their hosts"
                : `expected a list, got ${describe(value)}`,
        );
        return [];
    }
    if (value.length < minSites) {
        r.problem(
            "sites",
            `${value.length} site${value.length === 1 ? "" : "s"} given; this pattern needs at least ${minSites} so that losing one site leaves monitoring running`,
        );
    }
    const sites: SiteConfig[] = [];
    const siteNames = new Map<string, string>();
    const hostNames = new Map<string, string>();
    const addresses = new Map<string, string>();
    value.forEach((rawSite, i) => {
        const path = `sites[${i}]`;
        const node = r.object(rawSite, path, ["name", "network", "l2Segment", "lost", "hosts"]);
        if (!node) {
            return;
        }
        const name = r.string(node, "name", path);
        if (name !== undefined) {
            if (!LABEL.test(name)) {
                r.problem(`${path}.name`, `"${name}" is not a valid name (lower-case letters, digits and "-")`);
            } else if (siteNames.has(name)) {
                r.problem(`${path}.name`, `duplicate site name "${name}" (also ${siteNames.get(name)})`);
            }
            siteNames.set(name, `${path}.name`);
        }
        const network = r.string(node, "network", path);
        const networkProblem = network === undefined ? "missing" : cidrProblem(network);
        if (network !== undefined && networkProblem) {
            r.problem(`${path}.network`, networkProblem);
        }
        const validNetwork = networkProblem ? undefined : network;
        if (validNetwork) {
            sites.forEach((other, j) => {
                if (cidrsOverlap(other.network, validNetwork)) {
                    r.problem(
                        `${path}.network`,
                        `${validNetwork} overlaps sites[${j}].network ${other.network}; L3 sites need separate networks`,
                    );
                }
            });
        }
        const l2Segment = r.boolean(node, "l2Segment", path, false);
        const lost = r.boolean(node, "lost", path, false);
        const hosts = readHosts(r, node.hosts, path, validNetwork, hostNames, addresses);
        if (name !== undefined && validNetwork !== undefined && l2Segment !== undefined && lost !== undefined) {
            sites.push({ name, network: validNetwork, l2Segment, lost, hosts });
        }
    });
    return sites;
}

function readHosts(
    r: Reader,
    value: unknown,
    sitePath: string,
    network: string | undefined,
    hostNames: Map<string, string>,
    addresses: Map<string, string>,
): HostConfig[] {
    const path = `${sitePath}.hosts`;
    if (!Array.isArray(value) || value.length === 0) {
        r.problem(
            path,
            value === undefined ? "is required: a site needs at least one host" : "expected a non-empty list of hosts",
        );
        return [];
    }
    const hosts: HostConfig[] = [];
    value.forEach((rawHost, i) => {
        const hostPath = `${path}[${i}]`;
        const node = r.object(rawHost, hostPath, [
            "name",
            "address",
            "roles",
            "sshUser",
            "sshPort",
            "sshHostKey",
            "os",
            "cpus",
            "memoryGiB",
        ]);
        if (!node) {
            return;
        }
        const name = r.string(node, "name", hostPath);
        if (name !== undefined) {
            if (!LABEL.test(name)) {
                r.problem(
                    `${hostPath}.name`,
                    `"${name}" is not a valid host name (lower-case letters, digits and "-")`,
                );
            } else if (hostNames.has(name)) {
                r.problem(`${hostPath}.name`, `duplicate host name "${name}" (also ${hostNames.get(name)})`);
            }
            hostNames.set(name, `${hostPath}.name`);
        }
        const address = r.string(node, "address", hostPath);
        let addressOk = false;
        if (address !== undefined) {
            if (!isIPv4(address)) {
                r.problem(`${hostPath}.address`, `"${address}" is not an IPv4 address`);
            } else if (network !== undefined && !cidrContains(network, address)) {
                r.problem(`${hostPath}.address`, `${address} is outside its site's network ${network}`);
            } else if (addresses.has(address)) {
                r.problem(`${hostPath}.address`, `${address} is already used by ${addresses.get(address)}`);
            } else {
                addressOk = true;
            }
            addresses.set(address, hostPath);
        }
        const roles = readRoles(r, node.roles, `${hostPath}.roles`);
        const slot = name !== undefined && LABEL.test(name) ? replicationSlotName(name) : "";
        if (roles?.includes("db") && slot.length > POSTGRES_NAME_MAX) {
            r.problem(
                `${hostPath}.name`,
                `"${name}" is too long for a DB host: its replication slot would be ${slot} (${slot.length} characters), ` +
                    `and PostgreSQL names hold ${POSTGRES_NAME_MAX}; use at most ${POSTGRES_NAME_MAX - slot.length + name!.length} characters`,
            );
        }
        const sshUser = r.string(node, "sshUser", hostPath, "root");
        if (sshUser !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/.test(sshUser)) {
            r.problem(
                `${hostPath}.sshUser`,
                `${JSON.stringify(sshUser)} is not a user name (letters, digits, "_", ".", "-"; at most 32)`,
            );
        }
        const sshPort = r.integer(node, "sshPort", hostPath, 22, 1, 65535);
        const sshHostKey = readSshHostKey(r, node.sshHostKey, `${hostPath}.sshHostKey`);
        const os = r.oneOf<OsFamily>(node, "os", hostPath, OS_FAMILIES, "debian12");
        const cpus = node.cpus === undefined ? undefined : r.integer(node, "cpus", hostPath, 0, 1, 4096);
        const memoryGiB =
            node.memoryGiB === undefined ? undefined : r.integer(node, "memoryGiB", hostPath, 0, 1, 65536);
        if (name !== undefined && addressOk && roles && sshUser !== undefined && sshPort !== undefined && os) {
            hosts.push({
                name,
                address: address!,
                roles,
                sshUser,
                sshPort,
                ...(sshHostKey ? { sshHostKey } : {}),
                os,
                ...(cpus ? { cpus } : {}),
                ...(memoryGiB ? { memoryGiB } : {}),
            });
        }
    });
    return hosts;
}

/** The pinned host key, when given: one public key line, checked (sshHostKey.ts). */
function readSshHostKey(r: Reader, value: unknown, path: string): string | undefined {
    if (value === undefined) {
        return undefined;
    }
    if (typeof value !== "string") {
        r.problem(path, "expected the host's SSH public key as one line of text");
        return undefined;
    }
    const key = parseSshHostKey(value);
    if (typeof key === "string") {
        r.problem(path, key);
        return undefined;
    }
    return hostKeyLine(key);
}

/**
 * The host's roles. A bad entry is a problem but does not discard the others: the cross-checks
 * (a site's db host, its load balancer) then judge the roles that were given, so one typo is
 * reported alone. A misspelling of one known role counts as that role for those checks.
 */
function readRoles(r: Reader, value: unknown, path: string): Role[] | undefined {
    if (!Array.isArray(value) || value.length === 0) {
        r.problem(path, `expected a non-empty list of roles among ${ROLES.join(", ")}`);
        return undefined;
    }
    const roles: Role[] = [];
    value.forEach((role, i) => {
        if (!ROLES.includes(role as Role)) {
            const meant = typeof role === "string" ? misspeltRole(role) : undefined;
            r.problem(
                `${path}[${i}]`,
                `unknown role ${JSON.stringify(role)} (${meant ? `did you mean "${meant}"? ` : ""}known: ${ROLES.join(", ")})`,
            );
            if (meant && !roles.includes(meant)) {
                roles.push(meant);
            }
        } else if (value.indexOf(role) !== i) {
            r.problem(`${path}[${i}]`, `role "${role}" is listed twice`);
        } else if (!roles.includes(role as Role)) {
            roles.push(role as Role);
        }
    });
    // A set, kept in one canonical order: the same roles in another order plan the same steps.
    return ROLES.filter(role => roles.includes(role));
}

/** The one known role within two edits of `word` (a typo), if exactly one is. */
function misspeltRole(word: string): Role | undefined {
    const close = ROLES.filter(role => editDistance(word, role) <= 2);
    return close.length === 1 ? close[0] : undefined;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const row = [i];
        for (let j = 1; j <= b.length; j++) {
            row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        previous = row;
    }
    return previous[b.length];
}
