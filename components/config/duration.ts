/**
 * Zabbix's own time syntax: a whole number with an optional s, m or h suffix ("10s", "1m").
 * A bare number counts as seconds, as it does in `zabbix_server -R ha_set_failover_delay=`.
 */
export function parseZabbixDuration(value: unknown): number | undefined {
    if (typeof value === "number") {
        return Number.isInteger(value) ? value : undefined;
    }
    if (typeof value !== "string") {
        return undefined;
    }
    const match = /^\s*(\d+)\s*([smh]?)\s*$/.exec(value);
    if (!match) {
        return undefined;
    }
    const factor = { "": 1, s: 1, m: 60, h: 3600 }[match[2] as "" | "s" | "m" | "h"];
    return Number(match[1]) * factor;
}

/** Seconds back in Zabbix syntax, preferring the largest exact unit ("90s", "5m"). */
export function formatZabbixDuration(seconds: number): string {
    if (seconds % 3600 === 0) {
        return `${seconds / 3600}h`;
    }
    if (seconds % 60 === 0) {
        return `${seconds / 60}m`;
    }
    return `${seconds}s`;
}
