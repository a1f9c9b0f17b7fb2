/**
 * Reader of the `firewall` section: whether hosts load the library's nftables table, and the
 * networks outside the stack that it admits (who uses the UI, where SSH comes from, where the
 * monitored hosts are). Flows between the stack's own hosts are not configured: they follow from
 * the topology (components/firewall).
 */
import { cidrProblem, hostCidr } from "./network";
import { Reader, describe } from "./reader";
import { ADMIN_NETWORK_MIN_PREFIX } from "./db";
import { FirewallConfig, FirewallSources } from "./types";

export const FIREWALL_KEYS = ["enabled", "usersNetwork", "sshFrom", "monitoredNetwork"] as const;

/** The section as it reads when absent: no firewall, the UI open to all, nothing else from outside. */
export const FIREWALL_DEFAULTS: FirewallConfig = {
    enabled: false,
    usersNetwork: "any",
    sshFrom: [],
    monitoredNetwork: [],
};

export function readFirewall(r: Reader, value: unknown): FirewallConfig | undefined {
    const node = r.object(value, "firewall", FIREWALL_KEYS);
    if (!node) {
        return undefined;
    }
    const before = r.problemCount();
    const enabled = r.boolean(node, "enabled", "firewall", FIREWALL_DEFAULTS.enabled);
    const usersNetwork = readSources(
        r,
        node.usersNetwork,
        "firewall.usersNetwork",
        FIREWALL_DEFAULTS.usersNetwork,
        true,
    );
    const sshFrom = readSources(r, node.sshFrom, "firewall.sshFrom", FIREWALL_DEFAULTS.sshFrom, false);
    const monitoredNetwork = readSources(
        r,
        node.monitoredNetwork,
        "firewall.monitoredNetwork",
        FIREWALL_DEFAULTS.monitoredNetwork,
        true,
    );
    if (Array.isArray(sshFrom)) {
        sshFrom.forEach((cidr, i) => {
            if (Number(cidr.split("/")[1]) < ADMIN_NETWORK_MIN_PREFIX) {
                r.problem(
                    `firewall.sshFrom[${i}]`,
                    `${cidr} is too wide: SSH logs in as the hosts' administrator; name the machine pulumi up runs on ` +
                        `or your jump hosts, /${ADMIN_NETWORK_MIN_PREFIX} or narrower`,
                );
            }
        });
    }
    if (
        r.problemCount() > before ||
        enabled === undefined ||
        !usersNetwork ||
        !sshFrom ||
        sshFrom === "any" ||
        !monitoredNetwork
    ) {
        return undefined;
    }
    return { enabled, usersNetwork, sshFrom, monitoredNetwork };
}

/**
 * A source list: one network or address, a list of them, or (where `anyAllowed`) "any". Addresses
 * become /32 networks; each entry is checked as db.adminNetwork is, and reported by its index.
 */
function readSources(
    r: Reader,
    value: unknown,
    path: string,
    fallback: FirewallSources,
    anyAllowed: boolean,
): FirewallSources | undefined {
    if (value === undefined || value === null) {
        return fallback;
    }
    if (value === "any") {
        if (!anyAllowed) {
            r.problem(path, `"any" is not allowed here: name the networks`);
            return undefined;
        }
        return "any";
    }
    const list = typeof value === "string" ? [value] : value;
    if (!Array.isArray(list) || list.some(v => typeof v !== "string")) {
        r.problem(
            path,
            `expected a network in CIDR form or a list of them${anyAllowed ? ', or "any"' : ""}, got ${describe(value)}`,
        );
        return undefined;
    }
    const at = (i: number) => (typeof value === "string" ? path : `${path}[${i}]`);
    const cidrs = (list as string[]).map(hostCidr);
    let ok = true;
    cidrs.forEach((cidr, i) => {
        const problem = cidrProblem(cidr);
        if (problem) {
            r.problem(at(i), problem);
            ok = false;
        }
    });
    return ok ? [...new Set(cidrs)] : undefined;
}
