/**
 * Drills that change the stack's configuration on the running lab, as an operator's `pulumi up`
 * would (tools/lab/replay): what they share. Each starts from a whole lab, measures what Zabbix and
 * its database saw while the change ran (values sent and stored, writes through the balancers), and
 * applies the lab's own configuration again at the end (the lab is whole again for the next drill).
 * The drills themselves: switchovers.ts (a planned switchover, a reboot of the old primary after
 * one, a failover away from a lost site and its return) and dayTwo.ts (day-2 changes).
 */
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { LabHost, LabSite, sleep } from "../machines";
import { applyLab } from "../replay";
import { ZabbixApi } from "./api";
import { DrillLab, loadLab } from "./context";
import { drillValues, storedValues } from "./data";
import { waitHealthy } from "./health";
import { awaitRecovery } from "./observe";
import { ValueStream } from "./sender";
import { WriteProbe, WriteReport, ensureCommitTable } from "./writes";

/** One check a change drill makes, reported with its evidence. */
export interface ChangeCheck {
    readonly name: string;
    readonly ok: boolean;
    readonly detail: string;
}

export interface ChangeDrillResult {
    readonly kind: "change";
    readonly name: string;
    /** Which run of the drill this is (1 to `--repeat`). */
    readonly run: number;
    readonly pattern: string;
    readonly dbFailover: string;
    readonly summary: string;
    /** Each apply the drill made: what it planned and how long it took. */
    readonly applies: readonly { readonly what: string; readonly plan: string; readonly seconds: number }[];
    /** From the apply that matters to Zabbix storing values again (null: not within the bound). */
    readonly recoverySeconds: number | null;
    /** Acknowledged commits missing at the end, where the drill promises none (see `promise`). */
    readonly commitsLost: number;
    readonly promise: string;
    readonly writes?: WriteReport;
    /** Never more than one writable server through the balancers, never two fresh active nodes. */
    readonly splitBrain: boolean;
    readonly valuesSent: number;
    readonly valuesStored: number;
    readonly checks: readonly ChangeCheck[];
    readonly notes: readonly string[];
}

export interface ChangeDrill {
    readonly name: string;
    readonly summary: string;
    /** Why the drill does not apply to this lab, or undefined when it does. */
    notFor(lab: DrillLab): string | undefined;
    run(
        ctx: ChangeContext,
    ): Promise<Omit<ChangeDrillResult, "kind" | "name" | "run" | "pattern" | "dbFailover" | "summary" | "applies">>;
}

/** What a change drill works with; `lab()` reads the lab again after a change (passwords, hosts). */
/**
 * A settings file's `config:` mapping as the YAML holds it: the drills edit it freely, and the stack
 * program validates it when the lab applies it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw YAML, checked by the program on apply
export type RawConfig = Record<string, any>;

export interface ChangeContext {
    lab(): DrillLab;
    readonly api: ZabbixApi;
    readonly itemid: string;
    readonly log: (line: string) => void;
    /** The lab's own configuration, which every drill applies again at the end. */
    readonly home: string;
    /** Writes a copy of the lab's configuration with `edit` applied to its `config:` mapping. */
    changed(label: string, edit: (config: RawConfig) => void): string;
    /** Applies a configuration file to the running lab (the lab's lock is the drill's). */
    apply(what: string, file: string): Promise<{ seconds: number; plan: string }>;
}

/** The configuration keys the drills edit. */
export const SITES = "zabbix-ha:sites";
export const DB = "zabbix-ha:db";

/** A context for one drill, bound to a lab's cache and configuration; it keeps the drill's applies. */
export function changeContext(
    paths: DrillLab["paths"],
    api: ZabbixApi,
    itemid: string,
    log: (line: string) => void,
): ChangeContext & { applies: ChangeDrillResult["applies"][number][] } {
    const home = loadLab(paths, false).state.configFile;
    const dir = path.join(paths.root, "drill-configs");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const applies: ChangeDrillResult["applies"][number][] = [];
    let counter = 0;
    return {
        applies,
        home,
        api,
        itemid,
        log,
        // A change may leave a lone server node for a while (remove-server-node).
        lab: () => loadLab(paths, false),
        changed(label, edit) {
            const doc = parse(readFileSync(home, "utf8")) as { config: Record<string, unknown> };
            edit(doc.config as RawConfig);
            const file = path.join(dir, `${String(++counter).padStart(2, "0")}-${label}.yaml`);
            writeFileSync(
                file,
                `# ${label}: the lab's configuration (${path.basename(home)}) as a drill changed it\n${stringify(doc)}`,
                { mode: 0o600 },
            );
            return file;
        },
        async apply(what, file) {
            const result = await applyLab({
                configFile: file,
                locked: true,
                cacheRoot: paths.root,
                log: line => log(`    ${line}`),
            });
            const plan = (["create", "update", "replace", "delete"] as const)
                .map(op => `${result.summary[op].length} ${op}`)
                .join(", ");
            applies.push({ what, plan, seconds: result.elapsedSeconds });
            return { seconds: result.elapsedSeconds, plan };
        },
    };
}

/** The site of a host, as the lab was built. */
export const siteOf = (lab: DrillLab, host: LabHost): LabSite => lab.topo.sites.find(s => s.name === host.site)!;

/**
 * A drill that moves the primary away from where it is now: from a whole lab, `run` gets the
 * primary and another DB host's site, where it goes.
 */
export function movingPrimary(
    name: string,
    summary: string,
    notFor: ChangeDrill["notFor"],
    run: (ctx: ChangeContext, primary: LabHost, to: string) => ReturnType<ChangeDrill["run"]>,
): ChangeDrill {
    return {
        name,
        summary,
        notFor,
        async run(ctx) {
            const primary = (await waitHealthy(ctx.lab(), 300_000)).primary!;
            const other = ctx.lab().dbHosts.find(h => h.site !== primary.site);
            if (!other) {
                throw new Error("the lab has DB hosts in one site only: there is nowhere to move the primary");
            }
            if (other.site === configuredPrimarySite(ctx)) {
                // Patroni moved the primary away from db.primarySite (an earlier failover): naming the site it
                // went to is a change the engine applies (its switchover finds the leader there), and makes the
                // move measured next one that runs.
                await ctx.apply(
                    `db.primarySite -> ${primary.site}, where the primary is now`,
                    withPrimary(ctx, "where-it-is", primary.site),
                );
            }
            return run(ctx, primary, other.site);
        },
    };
}

/** db.primarySite as the lab's own configuration names it. */
function configuredPrimarySite(ctx: ChangeContext): string {
    const doc = parse(readFileSync(ctx.home, "utf8")) as { config: Record<string, { primarySite?: string }> };
    return String(doc.config[DB]?.primarySite);
}

/** Why a drill of a manual failover does not apply: Patroni's lab (`patroni` says why), or one DB host. */
export function manualFailoverOnly(patroni: string): ChangeDrill["notFor"] {
    return lab => (lab.failover !== "manual" ? patroni : lab.dbHosts.length < 2 ? "one DB host" : undefined);
}

/** A copy of the lab's configuration with db.primarySite moved, and the sites in `lost` declared lost. */
export function withPrimary(ctx: ChangeContext, label: string, site: string, lost: readonly string[] = []): string {
    return ctx.changed(label, config => {
        config[DB] = { ...config[DB], primarySite: site };
        config[SITES] = (config[SITES] as Record<string, unknown>[]).map(s =>
            lost.includes(String(s.name)) ? { ...s, lost: true } : s,
        );
    });
}

/** Values to the servers and writes through the given balancers, for the length of `body`. */
export async function measured<T>(
    ctx: ChangeContext,
    through: readonly LabHost[],
    run: string,
    body: (probe: WriteProbe, stream: ValueStream) => Promise<T>,
) {
    const lab = ctx.lab();
    await ensureCommitTable(lab);
    const stream = drillValues(lab);
    const probe = new WriteProbe(lab, through, run);
    stream.start();
    probe.start();
    let value: T;
    try {
        await sleep(3000);
        value = await body(probe, stream);
        await sleep(3000);
    } finally {
        await stream.stop();
    }
    const writes = await probe.stop();
    const stats = stream.stats();
    const stored = await storedValues(ctx.lab(), ctx.itemid, stats.first, stats.last);
    // What every change drill reports of the writes and values: two writable servers at once is a split brain.
    const figures = { writes, splitBrain: writes.maxWritable > 1, valuesSent: stats.sent, valuesStored: stored.size };
    return { value, writes, probe, stream, stats, stored, figures };
}

/** Recovery from `at`: the UI through the balancers, an active node, values stored again. */
export function recoveryFrom(
    ctx: ChangeContext,
    through: readonly LabHost[],
    stream: ValueStream,
    at: number,
    boundSeconds = 120,
): Promise<number | null> {
    return awaitRecovery(ctx.lab(), through, stream, ctx.itemid, at, {
        boundMs: boundSeconds * 1000,
        minObserveMs: 10_000,
        stableMs: 10_000,
    });
}

/** Runs one change drill in a context of its own and completes its result. */
export async function runChangeDrill(
    drill: ChangeDrill,
    paths: DrillLab["paths"],
    api: ZabbixApi,
    itemid: string,
    log: (line: string) => void,
    run = 1,
): Promise<ChangeDrillResult> {
    const ctx = changeContext(paths, api, itemid, log);
    const lab = ctx.lab();
    log(`${drill.name}${run > 1 ? ` (run ${run})` : ""}: ${drill.summary}`);
    const outcome = await drill.run(ctx);
    return {
        kind: "change",
        name: drill.name,
        run,
        pattern: lab.model.pattern.name,
        dbFailover: lab.failover,
        summary: drill.summary,
        applies: ctx.applies,
        ...outcome,
    };
}

/** One line per check, for the drills' report. */
export function formatChange(r: ChangeDrillResult): string {
    return [
        `${r.name}${r.run > 1 ? ` run ${r.run}` : ""} (${r.dbFailover}): recovery ${r.recoverySeconds === null ? "-" : `${r.recoverySeconds.toFixed(1)} s`}, commits lost ${r.commitsLost} (promised: ${r.promise}), ` +
            `max writable ${r.writes?.maxWritable ?? "-"}, longest without a writer ${r.writes ? `${r.writes.longestWithoutWriterSeconds.toFixed(1)} s` : "-"}, split-brain ${r.splitBrain ? "YES" : "no"}`,
        ...r.applies.map(a => `    apply: ${a.what}: ${a.plan} in ${a.seconds.toFixed(1)} s`),
        ...r.checks.map(c => `    ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`),
        ...r.notes.map(n => `    note: ${n}`),
    ].join("\n");
}
