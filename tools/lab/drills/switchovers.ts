/**
 * The change drills that move the DB primary, as an operator would with db.primarySite: a planned
 * switchover with writes running, a reboot of the old primary after one (manual failover), and a
 * failover away from a site that is cut off, declared lost while the cut lasts, and its return.
 */
import { inRecovery, onHostAsPostgres, walReceiverStatus, walWriter } from "../checks";
import { LabHost, sleep } from "../machines";
import { applyLab } from "../replay";
import {
    ChangeDrill,
    DB,
    manualFailoverOnly,
    measured,
    movingPrimary,
    recoveryFrom,
    siteOf,
    withPrimary,
} from "./changes";
import { DrillLab, mustOnHost } from "./context";
import { isolateSite, powerOff } from "./faults";
import { waitHealthy } from "./health";
import { SplitBrainWatch } from "./splitbrain";
import { adminOn, ask } from "./sql";

const plannedSwitchover = movingPrimary(
    "planned-switchover",
    "db.primarySite moved to another site and applied with writes running",
    lab => (lab.dbHosts.length < 2 ? "one DB host: no switchover" : undefined),
    async (ctx, from, to) => {
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
            recoverySeconds: recovery,
            commitsLost: lost.length,
            promise: "every acknowledged commit (a planned switchover)",
            ...m.figures,
            checks: [
                {
                    name: "the primary moved",
                    ok: after.primary?.site === to,
                    detail: `primary ${from.name} -> ${after.primary?.name}`,
                },
                {
                    name: "no commit lost",
                    ok: lost.length === 0,
                    detail: `${m.writes.acknowledged} acknowledged, ${lost.length} missing${lost.length ? ` (${lost.slice(0, 5).join(", ")}...)` : ""}`,
                },
            ],
            notes: [
                `longest without a writer ${m.writes.longestWithoutWriterSeconds.toFixed(1)} s`,
                `acknowledged by ${JSON.stringify(m.writes.acknowledgedBy)}`,
            ],
        };
    },
);

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
    const bytes = (lsn: string) => {
        const [hi, lo] = lsn.split("/").map(x => parseInt(x, 16));
        return hi * 2 ** 32 + lo;
    };
    const first = seen[0];
    const final = seen[seen.length - 1];
    return {
        samples,
        answered,
        writable,
        last,
        writableSeconds: first ? (final.at - first.at) / 1000 : 0,
        walBytes: first ? bytes(final.lsn) - bytes(first.lsn) : 0,
    };
}

const stoodDownReboot = movingPrimary(
    "stood-down-reboot",
    "after a planned switchover, the old primary's host powered off and booted again",
    manualFailoverOnly("Patroni decides where its primary runs"),
    async (ctx, old, to) => {
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
        const onOld = onHostAsPostgres(old, ctx.lab().paths.sshKey, ctx.lab().topo.config.db.port, {
            connectTimeout: 3,
            timeoutMs: 10_000,
        });
        // Either answer holds: a replica again, or PostgreSQL down (held down by its follow step).
        const role = await Promise.all([inRecovery(onOld), walReceiverStatus(onOld)]).then(
            ([replica, receiver]) => ({ ok: replica, detail: `in recovery ${replica}, receiver ${receiver}` }),
            () => ({ ok: true, detail: "PostgreSQL down" }),
        );
        await waitHealthy(ctx.lab(), 300_000);
        await ctx.apply("the lab's own configuration again (a switchover back)", ctx.home);
        return {
            recoverySeconds: null,
            commitsLost: 0,
            promise: "none (no writes measured)",
            splitBrain: seen.writable > 0,
            // (a stood-down primary that starts writable would be a second writer)
            valuesSent: 0,
            valuesStored: 0,
            checks: [
                {
                    name: "the old primary never accepted a write",
                    ok: seen.writable === 0,
                    detail: `${seen.samples} samples, ${seen.answered} answered, ${seen.writable} writable; last: ${seen.last}`,
                },
                { name: "it came back a replica or stayed down", ...role },
            ],
            notes: [],
        };
    },
);

const siteLost = movingPrimary(
    "manual-failover-site-lost",
    "the primary's site cut off; db.primarySite moved away, the site declared lost, applied during the cut; then the cut heals and the site rejoins",
    manualFailoverOnly("Patroni fails over by itself"),
    async (ctx, old, to) => {
        const lostSite = siteOf(ctx.lab(), old);
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
                await ctx.apply(
                    `site ${lostSite.name} lost, db.primarySite -> ${to}`,
                    withPrimary(ctx, "site-lost", to, [lostSite.name]),
                );
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
        const rejoin = await ctx
            .apply(`site ${lostSite.name} back (lost cleared), db.primarySite ${to}`, withPrimary(ctx, "site-back", to))
            .then(
                r => ({ ok: true, detail: `${old.name} rejoined as a replica (${r.plan})` }),
                err => ({
                    ok: false,
                    detail: (err as Error).message
                        .split("\n")
                        .filter(l => /^\s*(step |this |.*diverged|.*rebuild)/.test(l))
                        .join(" | "),
                }),
            );
        ctx.log(`    rejoin: ${rejoin.detail}`);
        if (!rejoin.ok) {
            notes.push(
                `${old.name} held down: ${rejoin.detail}; rebuilt from ${promoted.name} to make the lab whole again`,
            );
            await mustOnHost(ctx.lab(), old, "echo rebuild > /var/lib/zabbix-ha/postgres-role");
            const rebuilt = await applyLab({
                configFile: ctx.changed("site-back-rebuild", c => {
                    c[DB] = { ...c[DB], primarySite: to };
                }),
                locked: true,
                cacheRoot: ctx.lab().paths.root,
                replace: [`zabbix-db-${old.name}-follow`],
                log: line => ctx.log(`    ${line}`),
            });
            notes.push(`rebuild: ${rebuilt.elapsedSeconds.toFixed(1)} s`);
        }
        await waitHealthy(ctx.lab(), 300_000);
        await ctx.apply("the lab's own configuration again (a switchover back)", ctx.home);
        notes.push(
            `cut ${((healAt - cutAt) / 1000).toFixed(0)} s; applied at +${((applyAt - cutAt) / 1000).toFixed(1)} s`,
            `writable anywhere (from inside the cut site too): max ${split.maxWritable}, the cut-off old primary accepting its own site's writes is what a manual failover cannot prevent`,
        );
        return {
            recoverySeconds: recovery,
            commitsLost: lostRows.length,
            promise: `every commit ${promoted.name} acknowledged (async: ${old.name}'s last ones may be lost)`,
            ...m.figures,
            checks: [
                {
                    name: "promoted without waiting for the lost site",
                    ok: recovery !== null,
                    detail: `values stored again ${recovery === null ? "not within the bound" : `${recovery.toFixed(1)} s after the apply`}`,
                },
                {
                    name: "one writer through the surviving balancers",
                    ok: m.writes.maxWritable <= 1,
                    detail: `max ${m.writes.maxWritable}; seen ${m.writes.writableSeen.join(", ")}`,
                },
                // A manual failover cannot tell the old primary it was superseded before the cut heals: the
                // fence stops it as soon as it sees the new one. What it wrote in that moment is on a
                // superseded timeline (with async replication, never promised), and the rejoin drops it.
                {
                    name: "the old primary was fenced within 2 s of the heal",
                    ok: afterHeal.writableSeconds <= 2,
                    detail: `${afterHeal.samples} samples, ${afterHeal.writable} writable over ${afterHeal.writableSeconds.toFixed(1)} s, ${afterHeal.walBytes} bytes of WAL written then; last: ${afterHeal.last}`,
                },
                {
                    name: "no commit the new primary acknowledged was lost",
                    ok: lostRows.length === 0,
                    detail: `${m.writes.acknowledged} acknowledged, ${lostRows.length} missing`,
                },
                { name: "the old primary rejoined, or was held down with a message", ok: true, detail: rejoin.detail },
            ],
            notes,
        };
    },
);

export const SWITCHOVER_DRILLS: readonly ChangeDrill[] = [plannedSwitchover, stoodDownReboot, siteLost];
