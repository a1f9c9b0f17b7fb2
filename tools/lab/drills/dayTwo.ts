/**
 * The day-2 change drills: a site with a server node added and removed, the failover delay changed,
 * a server node's role removed and given back, the zabbix role's password rotated. Each applies
 * its change with writes and values running, checks it, applies the lab's own configuration again
 * and checks that.
 */
import { readFileSync } from "fs";
import { parse } from "yaml";
import { haNodes } from "../checks";
import { sleep } from "../machines";
import { ChangeCheck, ChangeContext, ChangeDrill, DB, RawConfig, SITES, measured, recoveryFrom } from "./changes";
import { DrillLab, onHost, serverUnit } from "./context";
import { acceptedLoss } from "./data";
import { waitHealthy } from "./health";
import { ask, query, viaLoadBalancer } from "./sql";

/** A day-2 change: apply it, check it, apply the lab's own configuration again and check that. */
interface DayTwoChange {
    readonly label: string;
    readonly edit: (config: RawConfig) => void;
    /** What the change is about (a host name), for the checks. */
    readonly subject?: string;
}

/** What a day-2 check knows: the phase, the change's subject, and the zabbix password before the change. */
interface DayTwoFacts {
    readonly phase: "changed" | "restored";
    readonly subject?: string;
    readonly oldPassword: string;
}

function dayTwo(
    name: string,
    summary: string,
    change: (ctx: ChangeContext) => DayTwoChange,
    checks: (ctx: ChangeContext, facts: DayTwoFacts) => Promise<ChangeCheck[]>,
): ChangeDrill {
    return {
        name,
        summary,
        notFor: () => undefined,
        async run(ctx) {
            await waitHealthy(ctx.lab(), 300_000);
            const { label, edit, subject } = change(ctx);
            const oldPassword = ctx.lab().zabbixPassword;
            const found: ChangeCheck[] = [];
            const m = await measured(ctx, ctx.lab().loadBalancers, `${name}-${Date.now()}`, async (_p, stream) => {
                const at = Date.now();
                await ctx.apply(label, ctx.changed(name, edit));
                const back = await recoveryFrom(ctx, ctx.lab().loadBalancers, stream, at);
                found.push(...(await checks(ctx, { phase: "changed", subject, oldPassword })));
                return back;
            });
            const recovery = m.value;
            await ctx.apply("the lab's own configuration again", ctx.home);
            await waitHealthy(ctx.lab(), 300_000);
            found.push(...(await checks(ctx, { phase: "restored", subject, oldPassword })));
            const lost = await m.probe.commitsLost();
            return {
                recoverySeconds: recovery,
                commitsLost: lost.length,
                promise: "every acknowledged commit",
                ...m.figures,
                checks: [
                    {
                        name: "monitoring kept or got back to storing values",
                        ok: recovery !== null,
                        detail: `${recovery ?? "not"} s`,
                    },
                    ...found,
                ],
                notes: [`acknowledged values lost: ${acceptedLoss(m.stream, m.stored, 0).count}`],
            };
        },
    };
}

/** "name=status" for every node in ha_node, through the first balancer. */
const nodeStates = async (lab: DrillLab) =>
    (await haNodes(ask(viaLoadBalancer(lab, lab.loadBalancers[0])))).map(n => `${n.name}=${n.status}`);

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

const addSite = dayTwo(
    "add-server-site",
    "a new site with a Zabbix server node, frontend and load balancer added, then removed",
    ctx => {
        // The new host runs what the lab's server nodes run (a Debian 13 lab has no Debian 12 Zabbix 7.0).
        const lab = ctx.lab();
        const os = lab.servers[0]?.os;
        return {
            label: "site nagoya added (zabbix-server, frontend, lb)",
            edit: c => {
                c[SITES] = [
                    ...c[SITES],
                    {
                        name: "nagoya",
                        network: "198.18.4.0/24",
                        hosts: [
                            {
                                name: "ngo-zbx1",
                                address: "198.18.4.10",
                                roles: ["zabbix-server", "frontend", "lb"],
                                ...(os ? { os } : {}),
                            },
                        ],
                    },
                ];
            },
        };
    },
    async (ctx, { phase }) => [
        await settled(async () => {
            const nodes = await nodeStates(ctx.lab());
            return phase === "changed"
                ? { name: "the new node stands by", ok: nodes.includes("ngo-zbx1=standby"), detail: nodes.join(", ") }
                : {
                      name: "the removed node left ha_node",
                      ok: !nodes.some(n => n.startsWith("ngo-zbx1=")),
                      detail: nodes.join(", "),
                  };
        }),
    ],
);

const failoverDelay = dayTwo(
    "failover-delay-change",
    "failoverDelay changed",
    ctx => {
        const now = ctx.lab().model.failoverDelaySeconds;
        return {
            label: `failoverDelay ${now}s -> ${now + 10}s`,
            edit: c => {
                c["zabbix-ha:failoverDelay"] = `${now + 10}s`;
            },
        };
    },
    async ctx => {
        const [[value]] = await query(
            viaLoadBalancer(ctx.lab(), ctx.lab().loadBalancers[0]),
            "select ha_failover_delay from config",
        );
        const wanted = `${ctx.lab().model.failoverDelaySeconds}s`;
        return [
            {
                name: "the database holds the configured delay",
                ok: value === wanted,
                detail: `ha_failover_delay ${value}, configured ${wanted}`,
            },
        ];
    },
);

const removeNode = dayTwo(
    "remove-server-node",
    "the zabbix-server role removed from a node's host, then given back",
    ctx => {
        const victim = ctx.lab().servers[ctx.lab().servers.length - 1].name;
        return {
            label: `zabbix-server role removed from ${victim}`,
            subject: victim,
            edit: c => {
                c[SITES] = c[SITES].map((s: RawConfig) => ({
                    ...s,
                    hosts: s.hosts.map((h: RawConfig) =>
                        h.name === victim ? { ...h, roles: h.roles.filter((r: string) => r !== "zabbix-server") } : h,
                    ),
                }));
            },
        };
    },
    async (ctx, { phase, subject }) => {
        const lab = ctx.lab();
        if (phase === "restored") {
            return [
                await settled(async () => {
                    const nodes = await nodeStates(ctx.lab());
                    return {
                        name: "every node registered again",
                        ok: ctx.lab().servers.every(s => nodes.some(n => n.startsWith(`${s.name}=`))),
                        detail: nodes.join(", "),
                    };
                }),
            ];
        }
        const host = lab.topo.hosts.find(h => h.name === subject)!;
        const unit = await onHost(
            lab,
            host,
            `systemctl is-active ${serverUnit(lab, host)}; systemctl is-enabled ${serverUnit(lab, host)}`,
            10_000,
        );
        return [
            await settled(async () => {
                const nodes = await nodeStates(ctx.lab());
                return {
                    name: "the removed node left ha_node",
                    ok: !nodes.some(n => n.startsWith(`${subject}=`)),
                    detail: nodes.join(", "),
                };
            }),
            {
                name: "its server is stopped and disabled",
                ok: /inactive|failed/.test(unit.stdout) && /disabled/.test(unit.stdout),
                detail: unit.stdout.trim().replace(/\n/g, ", "),
            },
        ];
    },
);

const rotatePassword = dayTwo(
    "rotate-db-password",
    "the zabbix role's generated password rotated (db.passwordRotation.zabbix)",
    ctx => {
        const now = Number(
            (readConfigDb(ctx.home).passwordRotation as Record<string, number> | undefined)?.zabbix ?? 0,
        );
        return {
            label: `db.passwordRotation.zabbix ${now} -> ${now + 1}`,
            edit: c => {
                c[DB] = { ...c[DB], passwordRotation: { ...(c[DB].passwordRotation ?? {}), zabbix: now + 1 } };
            },
        };
    },
    async (ctx, { phase, oldPassword }) => {
        const lab = ctx.lab();
        const through = viaLoadBalancer(lab, lab.loadBalancers[0]);
        const works = await query(through, "select 1").then(
            () => true,
            () => false,
        );
        const checks: ChangeCheck[] = [
            {
                name: `the current password works (${phase})`,
                ok: works,
                detail: works ? "select 1 through a balancer" : "refused",
            },
        ];
        if (phase === "changed") {
            const old = await query({ ...through, password: oldPassword }, "select 1").then(
                () => "accepted",
                err => `refused (${(err as Error).message.slice(0, 60)})`,
            );
            checks.push({ name: "the old password no longer works", ok: old.startsWith("refused"), detail: old });
        }
        return checks;
    },
);

function readConfigDb(file: string): Record<string, unknown> {
    return ((parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config[DB] ?? {}) as Record<
        string,
        unknown
    >;
}

export const DAY_TWO_DRILLS: readonly ChangeDrill[] = [addSite, failoverDelay, removeNode, rotatePassword];
