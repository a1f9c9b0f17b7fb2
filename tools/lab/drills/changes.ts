/**
 * Drills that change the stack's configuration on the running lab, as an operator's `pulumi up`
 * would (tools/lab/replay): a planned switchover, a reboot of the old primary after one, a failover
 * away from a lost site and its return, and day-2 changes. Each starts from a whole lab, measures
 * what Zabbix and its database saw while the change ran, and applies the lab's own configuration
 * again at the end (the lab is whole again for the next drill).
 */
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { LabHost, LabSite, sleep } from "../machines";
import { applyLab } from "../replay";
import { ZabbixApi } from "./api";
import { DrillLab, loadLab, mustOnHost, onHost } from "./context";
import { acceptedLoss, drillValues, storedValues } from "./data";
import { isolateSite, powerOff } from "./faults";
import { waitHealthy } from "./health";
import { awaitRecovery } from "./observe";
import { ValueStream } from "./sender";
import { SplitBrainWatch } from "./splitbrain";
import { haNodes, inRecovery, onHostAsPostgres, walReceiverStatus, walWriter } from "../checks";
import { adminOn, ask, query, viaLoadBalancer } from "./sql";
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
    run(ctx: ChangeContext): Promise<Omit<ChangeDrillResult, "kind" | "name" | "pattern" | "dbFailover" | "summary" | "applies">>;
}

/** What a change drill works with; `lab()` reads the lab again after a change (passwords, hosts). */
export interface ChangeContext {
    lab(): DrillLab;
    readonly api: ZabbixApi;
    readonly itemid: string;
    readonly log: (line: string) => void;
    /** The lab's own configuration, which every drill applies again at the end. */
    readonly home: string;
    /** Writes a copy of the lab's configuration with `edit` applied to its `config:` mapping. */
    changed(label: string, edit: (config: Record<string, any>) => void): string;
    /** Applies a configuration file to the running lab (the lab's lock is the drill's). */
    apply(what: string, file: string): Promise<{ seconds: number; plan: string }>;
}

const SITES = "zabbix-ha:sites";
const DB = "zabbix-ha:db";

/** A context for one drill, bound to a lab's cache and configuration; it keeps the drill's applies. */
export function changeContext(paths: DrillLab["paths"], api: ZabbixApi, itemid: string, log: (line: string) => void): ChangeContext & { applies: ChangeDrillResult["applies"][number][] } {
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
            edit(doc.config as Record<string, any>);
            const file = path.join(dir, `${String(++counter).padStart(2, "0")}-${label}.yaml`);
            writeFileSync(file, `# ${label}: the lab's configuration (${path.basename(home)}) as a drill changed it\n${stringify(doc)}`, { mode: 0o600 });
            return file;
        },
        async apply(what, file) {
            const result = await applyLab({ configFile: file, locked: true, cacheRoot: paths.root, log: line => log(`    ${line}`) });
            const plan = (["create", "update", "replace", "delete"] as const).map(op => `${result.summary[op].length} ${op}`).join(", ");
            applies.push({ what, plan, seconds: result.elapsedSeconds });
            return { seconds: result.elapsedSeconds, plan };
        },
    };
}

/** The site of a host, as the lab was built. */
const siteOf = (lab: DrillLab, host: LabHost): LabSite => lab.topo.sites.find(s => s.name === host.site)!;

/** Another DB host's site than the primary's: where a switchover goes. */
function otherDbSite(lab: DrillLab, primary: LabHost): string {
    const other = lab.dbHosts.find(h => h.site !== primary.site);
    if (!other) {
        throw new Error("the lab has DB hosts in one site only: there is nowhere to move the primary");
    }
    return other.site;
}

function withPrimary(ctx: ChangeContext, label: string, site: string, lost: readonly string[] = []): string {
    return ctx.changed(label, config => {
        config[DB] = { ...config[DB], primarySite: site };
        config[SITES] = (config[SITES] as Record<string, unknown>[]).map(s => (lost.includes(String(s.name)) ? { ...s, lost: true } : s));
    });
}

/** Values to the servers and writes through the given balancers, for the length of `body`. */
async function measured<T>(ctx: ChangeContext, through: readonly LabHost[], run: string, body: (probe: WriteProbe, stream: ValueStream) => Promise<T>) {
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
    return { value, writes, probe, stream, stats, stored };
}

/** Recovery from `at`: the UI through the balancers, an active node, values stored again. */
function recoveryFrom(ctx: ChangeContext, through: readonly LabHost[], stream: ValueStream, at: number, boundSeconds = 120): Promise<number | null> {
    return awaitRecovery(ctx.lab(), through, stream, ctx.itemid, at, { boundMs: boundSeconds * 1000, minObserveMs: 10_000, stableMs: 10_000 });
}

const plannedSwitchover: ChangeDrill = {
    name: "planned-switchover",
    summary: "db.primarySite moved to another site and applied with writes running",
    notFor: lab => (lab.dbHosts.length < 2 ? "one DB host: no switchover" : undefined),
    async run(ctx) {
        const before = await waitHealthy(ctx.lab(), 300_000);
        const from = before.primary!;
        const to = otherDbSite(ctx.lab(), from);
        const m = await measured(ctx, ctx.lab().loadBalancers, `switchover-${Date.now()}`, async (_probe, stream) => {
            const at = Date.now();
            await ctx.apply(`db.primarySite ${from.site} -> ${to}`, withPrimary(ctx, "switchover", to));
            return recoveryFrom(ctx, ctx.lab().loadBalancers, stream, at);
        });
        const recovery = m.value;
        const lost = await m.probe.commitsLost();
        const after = await waitHealthy(ctx.lab(), 300_000);
        await ctx.apply("the lab's own configuration again (a switchover back)", ctx.home);
        return {
            recoverySeconds: recovery, commitsLost: lost.length, promise: "every acknowledged commit (a planned switchover)", writes: m.writes,
            splitBrain: m.writes.maxWritable > 1, valuesSent: m.stats.sent, valuesStored: m.stored.size,
            checks: [
                { name: "the primary moved", ok: after.primary?.site === to, detail: `primary ${from.name} -> ${after.primary?.name}` },
                { name: "no commit lost", ok: lost.length === 0, detail: `${m.writes.acknowledged} acknowledged, ${lost.length} missing${lost.length ? ` (${lost.slice(0, 5).join(", ")}...)` : ""}` },
            ],
            notes: [`longest without a writer ${m.writes.longestWithoutWriterSeconds.toFixed(1)} s`, `acknowledged by ${JSON.stringify(m.writes.acknowledgedBy)}`],
        };
    },
};

interface WritableWatch {
    readonly samples: number;
    readonly answered: number;
    /** Samples in which the host accepted writes, and the span from the first to the last of them. */
    readonly writable: number;
    readonly writableSeconds: number;
    /** WAL the host wrote between its first and last writable sample: 0 means it took no write then. */
    readonly walBytes: number;
    readonly last?: string;
}

/** Samples one DB host directly five times a second: any moment it accepts writes, and the WAL it writes then. */
async function watchWritable(lab: DrillLab, host: LabHost, until: () => boolean): Promise<WritableWatch> {
    let samples = 0;
    let answered = 0;
    let writable = 0;
    let last: string | undefined;
    const seen: { at: number; lsn: string }[] = [];
    while (!until()) {
        const started = Date.now();
        samples++;
        try {
            const wal = await walWriter(ask(adminOn(lab, host), 1500));
            answered++;
            last = wal.writable ? "writable" : "read-only";
            if (wal.insertLsn !== undefined) {
                writable++;
                seen.push({ at: Date.now(), lsn: wal.insertLsn });
            }
        } catch (err) {
            last = `no answer (${(err as Error).message.slice(0, 80)})`;
        }
        await sleep(Math.max(0, 200 - (Date.now() - started)));
    }
    const bytes = (lsn: string) => { const [hi, lo] = lsn.split("/").map(x => parseInt(x, 16)); return hi * 2 ** 32 + lo; };
    const first = seen[0];
    const final = seen[seen.length - 1];
    return {
        samples, answered, writable, last,
        writableSeconds: first ? (final.at - first.at) / 1000 : 0,
        walBytes: first ? bytes(final.lsn) - bytes(first.lsn) : 0,
    };
}

const stoodDownReboot: ChangeDrill = {
    name: "stood-down-reboot",
    summary: "after a planned switchover, the old primary's host powered off and booted again",
    notFor: lab => (lab.failover !== "manual" ? "Patroni decides where its primary runs" : lab.dbHosts.length < 2 ? "one DB host" : undefined),
    async run(ctx) {
        const before = await waitHealthy(ctx.lab(), 300_000);
        const old = before.primary!;
        const to = otherDbSite(ctx.lab(), old);
        await ctx.apply(`db.primarySite ${old.site} -> ${to}`, withPrimary(ctx, "switchover", to));
        await waitHealthy(ctx.lab(), 300_000);
        let done = false;
        const watch = watchWritable(ctx.lab(), old, () => done);
        const fault = powerOff(ctx.lab(), old);
        await fault.inject();
        await sleep(2000);
        await fault.undo();
        await sleep(30_000);
        done = true;
        const seen = await watch;
        const onOld = onHostAsPostgres(old, ctx.lab().paths.sshKey, ctx.lab().topo.config.db.port, { connectTimeout: 3, timeoutMs: 10_000 });
        // Either answer holds: a replica again, or PostgreSQL down (held down by its follow step).
        const role = await Promise.all([inRecovery(onOld), walReceiverStatus(onOld)]).then(
            ([replica, receiver]) => ({ ok: replica, detail: `in recovery ${replica}, receiver ${receiver}` }), () => ({ ok: true, detail: "PostgreSQL down" }));
        await waitHealthy(ctx.lab(), 300_000);
        await ctx.apply("the lab's own configuration again (a switchover back)", ctx.home);
        return {
            recoverySeconds: null, commitsLost: 0, promise: "none (no writes measured)", splitBrain: seen.writable > 0,
            // (a stood-down primary that starts writable would be a second writer)
            valuesSent: 0, valuesStored: 0,
            checks: [
                { name: "the old primary never accepted a write", ok: seen.writable === 0, detail: `${seen.samples} samples, ${seen.answered} answered, ${seen.writable} writable; last: ${seen.last}` },
                { name: "it came back a replica or stayed down", ...role },
            ],
            notes: [],
        };
    },
};

const siteLost: ChangeDrill = {
    name: "manual-failover-site-lost",
    summary: "the primary's site cut off; db.primarySite moved away, the site declared lost, applied during the cut; then the cut heals and the site rejoins",
    notFor: lab => (lab.failover !== "manual" ? "Patroni fails over by itself" : lab.dbHosts.length < 2 ? "one DB host" : undefined),
    async run(ctx) {
        const before = await waitHealthy(ctx.lab(), 300_000);
        const old = before.primary!;
        const lostSite = siteOf(ctx.lab(), old);
        const to = otherDbSite(ctx.lab(), old);
        const surviving = ctx.lab().loadBalancers.filter(lb => lb.site !== lostSite.name);
        const watch = new SplitBrainWatch(ctx.lab(), () => cutAt);
        let cutAt = Date.now();
        let applyAt = 0;
        let healAt = 0;
        const cut = isolateSite(ctx.lab(), lostSite);
        const notes: string[] = [];
        watch.start();
        const m = await measured(ctx, surviving, `site-lost-${Date.now()}`, async (_probe, stream) => {
            cutAt = Date.now();
            await cut.inject();
            let recovery: number | null = null;
            try {
                // The operator sees the site gone and declares it lost.
                await sleep(10_000);
                applyAt = Date.now();
                await ctx.apply(`site ${lostSite.name} lost, db.primarySite -> ${to}`, withPrimary(ctx, "site-lost", to, [lostSite.name]));
                recovery = await recoveryFrom(ctx, surviving, stream, applyAt);
                await sleep(Math.max(0, 40_000 - (Date.now() - cutAt)));
            } finally {
                healAt = Date.now();
                await cut.undo();
            }
            // From the heal on, the old primary must never take a write.
            const until = Date.now() + 30_000;
            return { recovery, afterHeal: await watchWritable(ctx.lab(), old, () => Date.now() > until) };
        });
        const { recovery, afterHeal } = m.value;
        const split = await watch.stop();
        // Only what the promoted primary acknowledged is promised: with async replication the old one's last commits may be gone.
        const promoted = ctx.lab().dbHosts.find(h => h.site === to)!;
        const lostRows = await m.probe.commitsLost();
        const rejoin = await ctx.apply(`site ${lostSite.name} back (lost cleared), db.primarySite ${to}`, withPrimary(ctx, "site-back", to)).then(
            r => ({ ok: true, detail: `${old.name} rejoined as a replica (${r.plan})` }),
            err => ({ ok: false, detail: (err as Error).message.split("\n").filter(l => /^\s*(step |this |.*diverged|.*rebuild)/.test(l)).join(" | ") }));
        ctx.log(`    rejoin: ${rejoin.detail}`);
        if (!rejoin.ok) {
            notes.push(`${old.name} held down: ${rejoin.detail}; rebuilt from ${promoted.name} to make the lab whole again`);
            await mustOnHost(ctx.lab(), old, "echo rebuild > /var/lib/zabbix-ha/postgres-role");
            const rebuilt = await applyLab({ configFile: ctx.changed("site-back-rebuild", c => { c[DB] = { ...c[DB], primarySite: to }; }), locked: true,
                cacheRoot: ctx.lab().paths.root, replace: [`zabbix-db-${old.name}-follow`], log: line => ctx.log(`    ${line}`) });
            notes.push(`rebuild: ${rebuilt.elapsedSeconds.toFixed(1)} s`);
        }
        await waitHealthy(ctx.lab(), 300_000);
        await ctx.apply("the lab's own configuration again (a switchover back)", ctx.home);
        notes.push(`cut ${((healAt - cutAt) / 1000).toFixed(0)} s; applied at +${((applyAt - cutAt) / 1000).toFixed(1)} s`,
            `writable anywhere (from inside the cut site too): max ${split.maxWritable}, the cut-off old primary accepting its own site's writes is what a manual failover cannot prevent`);
        return {
            recoverySeconds: recovery, commitsLost: lostRows.length, promise: `every commit ${promoted.name} acknowledged (async: ${old.name}'s last ones may be lost)`,
            writes: m.writes, splitBrain: m.writes.maxWritable > 1,
            valuesSent: m.stats.sent, valuesStored: m.stored.size,
            checks: [
                { name: "promoted without waiting for the lost site", ok: recovery !== null, detail: `values stored again ${recovery === null ? "not within the bound" : `${recovery.toFixed(1)} s after the apply`}` },
                { name: "one writer through the surviving balancers", ok: m.writes.maxWritable <= 1, detail: `max ${m.writes.maxWritable}; seen ${m.writes.writableSeen.join(", ")}` },
                // A manual failover cannot tell the old primary it was superseded before the cut heals: the
                // fence stops it as soon as it sees the new one. What it wrote in that moment is on a
                // superseded timeline (with async replication, never promised), and the rejoin drops it.
                { name: "the old primary was fenced within 2 s of the heal", ok: afterHeal.writableSeconds <= 2,
                    detail: `${afterHeal.samples} samples, ${afterHeal.writable} writable over ${afterHeal.writableSeconds.toFixed(1)} s, ${afterHeal.walBytes} bytes of WAL written then; last: ${afterHeal.last}` },
                { name: "no commit the new primary acknowledged was lost", ok: lostRows.length === 0, detail: `${m.writes.acknowledged} acknowledged, ${lostRows.length} missing` },
                { name: "the old primary rejoined, or was held down with a message", ok: true, detail: rejoin.detail },
            ],
            notes,
        };
    },
};

/** A day-2 change: apply it, check it, apply the lab's own configuration again and check that. */
interface DayTwoChange {
    readonly label: string;
    readonly edit: (config: Record<string, any>) => void;
    /** What the change is about (a host name), for the checks. */
    readonly subject?: string;
}

/** What a day-2 check knows: the phase, the change's subject, and the zabbix password before the change. */
interface DayTwoFacts {
    readonly phase: "changed" | "restored";
    readonly subject?: string;
    readonly oldPassword: string;
}

function dayTwo(name: string, summary: string, change: (ctx: ChangeContext) => DayTwoChange,
    checks: (ctx: ChangeContext, facts: DayTwoFacts) => Promise<ChangeCheck[]>): ChangeDrill {
    return {
        name, summary, notFor: () => undefined,
        async run(ctx) {
            await waitHealthy(ctx.lab(), 300_000);
            const { label, edit, subject } = change(ctx);
            const oldPassword = ctx.lab().zabbixPassword;
            const found: ChangeCheck[] = [];
            const m = await measured(ctx, ctx.lab().loadBalancers, `${name}-${Date.now()}`, async (_p, stream) => {
                const at = Date.now();
                await ctx.apply(label, ctx.changed(name, edit));
                const back = await recoveryFrom(ctx, ctx.lab().loadBalancers, stream, at);
                found.push(...await checks(ctx, { phase: "changed", subject, oldPassword }));
                return back;
            });
            const recovery = m.value;
            await ctx.apply("the lab's own configuration again", ctx.home);
            await waitHealthy(ctx.lab(), 300_000);
            found.push(...await checks(ctx, { phase: "restored", subject, oldPassword }));
            const lost = await m.probe.commitsLost();
            return {
                recoverySeconds: recovery, commitsLost: lost.length, promise: "every acknowledged commit", writes: m.writes,
                splitBrain: m.writes.maxWritable > 1, valuesSent: m.stats.sent, valuesStored: m.stored.size,
                checks: [{ name: "monitoring kept or got back to storing values", ok: recovery !== null, detail: `${recovery ?? "not"} s` }, ...found],
                notes: [`acknowledged values lost: ${acceptedLoss(m.stream, m.stored, 0).count}`],
            };
        },
    };
}

/** "name=status" for every node in ha_node, through the first balancer. */
const nodeStates = async (lab: DrillLab) => (await haNodes(ask(viaLoadBalancer(lab, lab.loadBalancers[0])))).map(n => `${n.name}=${n.status}`);

/** A check asked again until it passes or a minute is up (a change settles: a node registers, a row goes). */
async function settled(check: () => Promise<ChangeCheck>, timeoutMs = 60_000): Promise<ChangeCheck> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const result = await check().catch(err => ({ name: "check", ok: false, detail: (err as Error).message }));
        if (result.ok || Date.now() > deadline) {
            return result;
        }
        await sleep(2000);
    }
}

const addSite = dayTwo("add-server-site", "a new site with a Zabbix server node, frontend and load balancer added, then removed",
    () => ({
        label: "site nagoya added (zabbix-server, frontend, lb)",
        edit: c => {
            c[SITES] = [...c[SITES], { name: "nagoya", network: "198.18.4.0/24", hosts: [{ name: "ngo-zbx1", address: "198.18.4.10", roles: ["zabbix-server", "frontend", "lb"] }] }];
        },
    }),
    async (ctx, { phase }) => [await settled(async () => {
        const nodes = await nodeStates(ctx.lab());
        return phase === "changed"
            ? { name: "the new node stands by", ok: nodes.includes("ngo-zbx1=standby"), detail: nodes.join(", ") }
            : { name: "the removed node left ha_node", ok: !nodes.some(n => n.startsWith("ngo-zbx1=")), detail: nodes.join(", ") };
    })]);

const failoverDelay = dayTwo("failover-delay-change", "failoverDelay changed",
    ctx => {
        const now = ctx.lab().model.failoverDelaySeconds;
        return { label: `failoverDelay ${now}s -> ${now + 10}s`, edit: c => { c["zabbix-ha:failoverDelay"] = `${now + 10}s`; } };
    },
    async ctx => {
        const [[value]] = await query(viaLoadBalancer(ctx.lab(), ctx.lab().loadBalancers[0]), "select ha_failover_delay from config");
        const wanted = `${ctx.lab().model.failoverDelaySeconds}s`;
        return [{ name: "the database holds the configured delay", ok: value === wanted, detail: `ha_failover_delay ${value}, configured ${wanted}` }];
    });

const removeNode = dayTwo("remove-server-node", "the zabbix-server role removed from a node's host, then given back",
    ctx => {
        const victim = ctx.lab().servers[ctx.lab().servers.length - 1].name;
        return {
            label: `zabbix-server role removed from ${victim}`,
            subject: victim,
            edit: c => {
                c[SITES] = c[SITES].map((s: Record<string, any>) => ({ ...s, hosts: s.hosts.map((h: Record<string, any>) =>
                    (h.name === victim ? { ...h, roles: h.roles.filter((r: string) => r !== "zabbix-server") } : h)) }));
            },
        };
    },
    async (ctx, { phase, subject }) => {
        const lab = ctx.lab();
        if (phase === "restored") {
            return [await settled(async () => {
                const nodes = await nodeStates(ctx.lab());
                return { name: "every node registered again", ok: ctx.lab().servers.every(s => nodes.some(n => n.startsWith(`${s.name}=`))), detail: nodes.join(", ") };
            })];
        }
        const host = lab.topo.hosts.find(h => h.name === subject)!;
        const unit = await onHost(lab, host, "systemctl is-active zabbix-server; systemctl is-enabled zabbix-server", 10_000);
        return [
            await settled(async () => {
                const nodes = await nodeStates(ctx.lab());
                return { name: "the removed node left ha_node", ok: !nodes.some(n => n.startsWith(`${subject}=`)), detail: nodes.join(", ") };
            }),
            { name: "its server is stopped and disabled", ok: /inactive|failed/.test(unit.stdout) && /disabled/.test(unit.stdout), detail: unit.stdout.trim().replace(/\n/g, ", ") },
        ];
    });

const rotatePassword = dayTwo("rotate-db-password", "the zabbix role's generated password rotated (db.passwordRotation.zabbix)",
    ctx => {
        const now = Number((readConfigDb(ctx.home).passwordRotation as Record<string, number> | undefined)?.zabbix ?? 0);
        return { label: `db.passwordRotation.zabbix ${now} -> ${now + 1}`, edit: c => { c[DB] = { ...c[DB], passwordRotation: { ...(c[DB].passwordRotation ?? {}), zabbix: now + 1 } }; } };
    },
    async (ctx, { phase, oldPassword }) => {
        const lab = ctx.lab();
        const through = viaLoadBalancer(lab, lab.loadBalancers[0]);
        const works = await query(through, "select 1").then(() => true, () => false);
        const checks: ChangeCheck[] = [{ name: `the current password works (${phase})`, ok: works, detail: works ? "select 1 through a balancer" : "refused" }];
        if (phase === "changed") {
            const old = await query({ ...through, password: oldPassword }, "select 1").then(() => "accepted", err => `refused (${(err as Error).message.slice(0, 60)})`);
            checks.push({ name: "the old password no longer works", ok: old.startsWith("refused"), detail: old });
        }
        return checks;
    });

function readConfigDb(file: string): Record<string, unknown> {
    return ((parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config[DB] ?? {}) as Record<string, unknown>;
}

export const CHANGE_DRILLS: readonly ChangeDrill[] = [plannedSwitchover, stoodDownReboot, siteLost, addSite, failoverDelay, removeNode, rotatePassword];

/** Runs one change drill in a context of its own and completes its result. */
export async function runChangeDrill(drill: ChangeDrill, paths: DrillLab["paths"], api: ZabbixApi, itemid: string, log: (line: string) => void): Promise<ChangeDrillResult> {
    const ctx = changeContext(paths, api, itemid, log);
    const lab = ctx.lab();
    log(`${drill.name}: ${drill.summary}`);
    const outcome = await drill.run(ctx);
    return { kind: "change", name: drill.name, pattern: lab.model.pattern.name, dbFailover: lab.failover, summary: drill.summary, applies: ctx.applies, ...outcome };
}

/** One line per check, for the drills' report. */
export function formatChange(r: ChangeDrillResult): string {
    return [
        `${r.name} (${r.dbFailover}): recovery ${r.recoverySeconds === null ? "-" : `${r.recoverySeconds.toFixed(1)} s`}, commits lost ${r.commitsLost} (promised: ${r.promise}), `
            + `max writable ${r.writes?.maxWritable ?? "-"}, longest without a writer ${r.writes ? `${r.writes.longestWithoutWriterSeconds.toFixed(1)} s` : "-"}, split-brain ${r.splitBrain ? "YES" : "no"}`,
        ...r.applies.map(a => `    apply: ${a.what}: ${a.plan} in ${a.seconds.toFixed(1)} s`),
        ...r.checks.map(c => `    ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`),
        ...r.notes.map(n => `    note: ${n}`),
    ].join("\n");
}
