/**
 * A host's nftables ruleset: a table of the library's own (inet zabbix_ha, IPv4 and IPv6 alike) whose
 * input chain drops whatever the host's flows do not admit. The file deletes and recreates only that
 * table, in one transaction: an operator's other tables stay, and a host is never left half-filtered.
 * Pure: flows in, file text out.
 */
import { RENDERED_HEADER } from "../shell";
import { Flow, FlowSource, HostFlows, sourceAddress } from "./flows";

export const FIREWALL_TABLE = "zabbix_ha";
export const FIREWALL_FAMILY = "inet";

/**
 * ICMP that IP needs to work: errors (path MTU discovery's "too big" included), echo for
 * reachability checks, and IPv6's neighbour and router discovery. Other types are dropped.
 */
const ICMP_TYPES = ["destination-unreachable", "echo-request", "parameter-problem", "time-exceeded"];
const ICMPV6_TYPES = [
    "destination-unreachable",
    "echo-request",
    "mld-listener-query",
    "nd-neighbor-advert",
    "nd-neighbor-solicit",
    "nd-router-advert",
    "packet-too-big",
    "parameter-problem",
    "time-exceeded",
];

/** Who a source is, for the comment above its rule. */
function sourceLabel(s: FlowSource): string {
    return s.kind === "host" ? s.host : s.kind === "network" ? `${s.setting} ${s.cidr}` : `${s.setting} any`;
}

function ruleOf(flow: Flow): string {
    const what = `${flow.protocol} dport ${flow.port}`;
    const name = flow.services.join(", ");
    if (flow.sources === "any") {
        return `        # ${name}: from anywhere
        ${what} accept comment "${name}"`;
    }
    const sources = flow.sources;
    const addresses = sources.map(s => sourceAddress(s as Exclude<FlowSource, { kind: "any" }>));
    return `        # ${name}: from ${sources.map(sourceLabel).join(", ")}
        ${what} ip saddr { ${addresses.join(", ")} } accept comment "${name}"`;
}

/** The ruleset file of one host. */
export function renderRuleset(h: HostFlows): string {
    return `#!/usr/sbin/nft -f
# ${RENDERED_HEADER}
# Host ${h.host} (${[...h.roles].sort().join(", ") || "no role"}): what its roles need, from whom; the rest is dropped.
# Declared, deleted and declared again in one transaction: loading it replaces this table alone.
table ${FIREWALL_FAMILY} ${FIREWALL_TABLE}
delete table ${FIREWALL_FAMILY} ${FIREWALL_TABLE}
table ${FIREWALL_FAMILY} ${FIREWALL_TABLE} {
    chain input {
        type filter hook input priority filter; policy drop;
        ct state vmap { established : accept, related : accept, invalid : drop }
        iif "lo" accept
        icmp type { ${ICMP_TYPES.join(", ")} } accept
        icmpv6 type { ${ICMPV6_TYPES.join(", ")} } accept
${h.flows.map(ruleOf).join("\n")}
    }
}
`;
}
