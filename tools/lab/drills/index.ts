/**
 * `npm run lab -- drill [--json FILE] [--only NAME]`: failure drills against the running lab, one
 * after another, each from a whole lab and back to one (see tools/lab/README.md, "Failure drills").
 * The lab's lock is held throughout, so `up` or `down` cannot pull the lab away mid-drill.
 */
import { formatSeconds } from "../../../model";
import { cachePaths, withLock } from "../machines";
import { ZabbixApi, ensureDrillItem } from "./api";
import { CHANGE_DRILLS, DRILLS, selectDrills } from "./catalog";
import { ChangeDrillResult, formatChange, runChangeDrill } from "./changes";
import { loadLab, onHost } from "./context";
import { formatNotes, formatTable, writeJson } from "./report";
import { DrillResult, runDrill } from "./runner";

export { CHANGE_DRILLS, DRILLS } from "./catalog";
export type { ChangeDrillResult } from "./changes";
export type { DrillResult } from "./runner";

/** Every drill by name: the faults first, then the configuration changes. */
export const DRILL_NAMES: readonly string[] = [...DRILLS.map(d => d.name), ...CHANGE_DRILLS.map(d => d.name)];

export interface DrillOptions {
    /** Drill names (or "site-isolation" for both of its entries); all when absent. */
    readonly only?: readonly string[];
    /** Where to write the results as JSON. */
    readonly json?: string;
    readonly cacheRoot?: string;
    readonly log?: (line: string) => void;
}

export async function drill(options: DrillOptions = {}): Promise<(DrillResult | ChangeDrillResult)[]> {
    const log = options.log ?? (line => console.log(line));
    const drills = selectDrills(
        options.only,
        CHANGE_DRILLS.map(d => d.name),
    );
    const changes = CHANGE_DRILLS.filter(d => !options.only?.length || options.only.includes(d.name));
    const paths = cachePaths(options.cacheRoot);
    return withLock(paths, async () => {
        const lab = loadLab(paths);
        const port = lab.topo.config.loadBalancer.httpPort;
        const api = new ZabbixApi(lab.loadBalancers.map(lb => `http://${lb.address}:${port}/api_jsonrpc.php`));
        const itemid = await ensureDrillItem(api);
        // Only the active node answers; a standby reads the whole configuration when it takes over anyway.
        await Promise.all(lab.servers.map(s => onHost(lab, s, "zabbix_server -R config_cache_reload")));
        const applicable = changes.filter(c => {
            const why = c.notFor(lab);
            if (why) {
                log(`${c.name}: does not apply to this lab (${why})`);
            }
            return !why;
        });
        log(
            `drills on ${lab.state.configFile} (db.failover ${lab.failover}, failover delay ${lab.model.failoverDelaySeconds} s): ` +
                `${[...drills, ...applicable].map(d => d.name).join(", ")}`,
        );
        const faults: DrillResult[] = [];
        const changed: ChangeDrillResult[] = [];
        const save = () => options.json && writeJson(options.json, [...faults, ...changed], commandLine(options));
        for (const d of drills) {
            const result = await runDrill(lab, d, api, itemid, log);
            log(
                `${d.name}: recovery ${result.recoverySeconds === null ? `none within ${result.boundSeconds} s` : `${result.recoverySeconds.toFixed(1)} s`}, ` +
                    `predicted ${result.predictedSeconds === null ? "manual" : formatSeconds(result.predictedSeconds)}, split-brain ${result.splitBrain ? "YES" : "no"}, ` +
                    `sent ${result.valuesSent}, stored ${result.valuesStored}, config lost ${result.configLost}, whole again ${result.restoreSeconds.toFixed(0)} s after the undo`,
            );
            faults.push(result);
            // Written after every drill: a drill set that stops half-way still leaves its figures.
            save();
        }
        for (const c of applicable) {
            const result = await runChangeDrill(c, paths, api, itemid, log);
            log(formatChange(result));
            changed.push(result);
            save();
        }
        if (faults.length > 0) {
            log(formatTable(faults));
            log(formatNotes(faults));
        }
        changed.forEach(r => log(formatChange(r)));
        return [...faults, ...changed];
    });
}

function commandLine(options: DrillOptions): string {
    return [
        "npm run lab -- drill",
        ...(options.json ? ["--json", options.json] : []),
        ...(options.only ?? []).flatMap(n => ["--only", n]),
    ].join(" ");
}
