/**
 * `npm run lab -- drill [--json FILE] [--only NAME]... [--repeat N]`: failure drills against the
 * running lab, one after another (each N times in a row), each run from a whole lab and back to one
 * (see tools/lab/README.md, "Failure drills"). The lab's lock is held throughout, so `up` or `down`
 * cannot pull the lab away mid-drill.
 */
import { formatSeconds } from "../../../model";
import { repeatProblem } from "../args";
import { cachePaths, withLock } from "../machines";
import { ZabbixApi, ensureDrillItem, uiBase } from "./api";
import { CHANGE_DRILLS, DRILLS, selectDrills } from "./catalog";
import { ChangeDrillResult, formatChange, runChangeDrill } from "./changes";
import { loadLab, onHost } from "./context";
import { formatNotes, formatSummaryTable, formatTable, formatVerdicts, writeJson } from "./report";
import { DrillResult, runDrill } from "./runner";
import { FaultDrillSummary, summarize } from "./summary";

export { CHANGE_DRILLS, DRILLS } from "./catalog";
export type { ChangeDrillResult } from "./changes";
export type { DrillResult } from "./runner";
export { median, promisedLost, spread, summarize, withinModel } from "./summary";
export type { ChangeDrillSummary, DrillSummary, FaultDrillSummary, Spread } from "./summary";

/** Every drill by name: the faults first, then the configuration changes. */
export const DRILL_NAMES: readonly string[] = [...DRILLS.map(d => d.name), ...CHANGE_DRILLS.map(d => d.name)];

export interface DrillOptions {
    /** Drill names (or "site-isolation" for both of its entries); all when absent. */
    readonly only?: readonly string[];
    /** Where to write the results as JSON. */
    readonly json?: string;
    /** Runs of each drill, one after the other (1 to 20; 1 when absent). */
    readonly repeat?: number;
    readonly cacheRoot?: string;
    readonly log?: (line: string) => void;
}

/**
 * Runs the drills and returns every run, in order (a drill's runs one after the other);
 * `summarize` gives the spread and verdict per drill over its runs.
 */
export async function drill(options: DrillOptions = {}): Promise<(DrillResult | ChangeDrillResult)[]> {
    const log = options.log ?? (line => console.log(line));
    const repeat = options.repeat ?? 1;
    const problem = repeatProblem(repeat);
    if (problem) {
        throw new Error(`repeat ${problem}, not ${repeat}`);
    }
    const drills = selectDrills(
        options.only,
        CHANGE_DRILLS.map(d => d.name),
    );
    const changes = CHANGE_DRILLS.filter(d => !options.only?.length || options.only.includes(d.name));
    const paths = cachePaths(options.cacheRoot);
    return withLock(paths, async () => {
        const lab = loadLab(paths);
        const faultDrills = drills.filter(d => {
            const why = d.notFor?.(lab);
            if (why) {
                log(`${d.name}: does not apply to this lab (${why})`);
            }
            return !why;
        });
        const api = new ZabbixApi(
            lab.loadBalancers.map(lb => `${uiBase(lb)}api_jsonrpc.php`),
            lab.zabbixApi,
            lab.uiCa,
        );
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
                `${[...faultDrills, ...applicable].map(d => d.name).join(", ")}${repeat > 1 ? `, each ${repeat} times` : ""}`,
        );
        const faults: DrillResult[] = [];
        const changed: ChangeDrillResult[] = [];
        const save = () =>
            options.json && writeJson(options.json, [...faults, ...changed], commandLine(options), repeat);
        for (const d of faultDrills) {
            // Each run starts from a whole lab again: runDrill waits for one before it injects the fault.
            for (let run = 1; run <= repeat; run++) {
                const result = await runDrill(lab, d, api, itemid, log, run);
                log(runLine(result));
                faults.push(result);
                // Written after every run: a drill set that stops half-way still leaves its figures.
                save();
            }
        }
        for (const c of applicable) {
            for (let run = 1; run <= repeat; run++) {
                const result = await runChangeDrill(c, paths, api, itemid, log, run);
                log(formatChange(result));
                changed.push(result);
                save();
            }
        }
        const summaries = summarize([...faults, ...changed]);
        if (faults.length > 0) {
            log(formatTable(faults));
            log(formatNotes(faults));
            if (repeat > 1) {
                log(formatSummaryTable(summaries.filter((s): s is FaultDrillSummary => s.kind === "fault")));
            }
        }
        changed.forEach(r => log(formatChange(r)));
        log(formatVerdicts(summaries));
        return [...faults, ...changed];
    });
}

function commandLine(options: DrillOptions): string {
    return [
        "npm run lab -- drill",
        ...(options.json ? ["--json", options.json] : []),
        ...(options.only ?? []).flatMap(n => ["--only", n]),
        ...(options.repeat && options.repeat > 1 ? ["--repeat", String(options.repeat)] : []),
    ].join(" ");
}

/** What one run of a fault drill gave, as it ends. */
function runLine(r: DrillResult): string {
    return (
        `${r.name}${r.run > 1 ? ` run ${r.run}` : ""}: recovery ${r.recoverySeconds === null ? `none within ${r.boundSeconds} s` : `${r.recoverySeconds.toFixed(1)} s`}, ` +
        `predicted ${r.predictedSeconds === null ? "manual" : formatSeconds(r.predictedSeconds)}, split-brain ${r.splitBrain ? "YES" : "no"}, ` +
        `sent ${r.valuesSent}, stored ${r.valuesStored}, ` +
        (r.sources.agents
            ? `through proxies produced ${r.sources.agents.valuesProduced}, stored ${r.sources.agents.valuesStored}, ` +
              `delay p95 ${r.sources.agents.latencyP95Seconds?.toFixed(1) ?? "-"} s max ${r.sources.agents.latencyMaxSeconds?.toFixed(1) ?? "-"} s, `
            : "") +
        `config lost ${r.configLost}, whole again ${r.restoreSeconds.toFixed(0)} s after the undo`
    );
}
