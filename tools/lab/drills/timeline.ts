/**
 * Where the time of a recovery went, from the services' own logs: when Zabbix made a node active and
 * when Patroni promoted a database, relative to the fault. The hosts share the machine's clock
 * (containers, UTC), so their log times compare with the drill's own.
 */
import { LabHost } from "../machines";
import { DrillLab, onHost, serverLayout } from "./context";

/** " 14935:20261122:020336.807 ..." -> ms since the epoch. */
function zabbixTime(line: string): number | undefined {
    const m = /^\s*\d+:(\d{4})(\d\d)(\d\d):(\d\d)(\d\d)(\d\d)\.(\d{3}) /.exec(line);
    return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]) : undefined;
}

/** "2026-11-22 02:15:10,284 INFO: ..." (Patroni's own lines in the journal) -> ms since the epoch. */
function patroniTime(line: string): number | undefined {
    const m = /(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3}) INFO: /.exec(line);
    return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]) : undefined;
}

async function firstAfter(
    lab: DrillLab,
    host: LabHost,
    command: string,
    parse: (l: string) => number | undefined,
    after: number,
): Promise<number | undefined> {
    const out = await onHost(lab, host, command, 15_000);
    return out.stdout
        .split("\n")
        .map(parse)
        .find((t): t is number => t !== undefined && t >= after);
}

/** "zabbix: osa-zbx1 active +12.3 s; patroni: osa-zbx1 promoted +17.0 s", for what happened after the fault. */
export async function recoveryTimeline(lab: DrillLab, faultAt: number): Promise<string> {
    const parts: string[] = [];
    const rel = (t: number) => `+${((t - faultAt) / 1000).toFixed(1)} s`;
    for (const server of lab.servers) {
        const at = await firstAfter(
            lab,
            server,
            `grep -aE 'node (switched to|started in) "active" mode' ${serverLayout(lab, server).logFile} | tail -20`,
            zabbixTime,
            faultAt,
        ).catch(() => undefined);
        if (at !== undefined) {
            parts.push(`zabbix: ${server.name} active ${rel(at)}`);
        }
    }
    if (lab.failover === "patroni") {
        for (const db of lab.dbHosts) {
            const at = await firstAfter(
                lab,
                db,
                "journalctl -q -u 'patroni@*' --no-pager --since '-10 min' | grep -a 'promoted self to leader' | tail -5",
                patroniTime,
                faultAt,
            ).catch(() => undefined);
            if (at !== undefined) {
                parts.push(`patroni: ${db.name} promoted ${rel(at)}`);
            }
        }
    }
    return parts.join(", ") || "no takeover logged";
}
