/**
 * Canonical plans: the same design listed in another order must plan nothing. Every list of every
 * shipped stack file (sites, hosts, roles, fence devices, ...) is shuffled with a seeded shuffle, and
 * once reversed, then planned against the state of the original's plan, for every pattern the file
 * can form; the lab's diff engine must find every resource the same. Two orders are kept, as they
 * mean something: `drbd.nodes` (preference), and `db.primarySite` stays set (its default is the
 * first site with a DB host).
 */
import { readFileSync, readdirSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { goalsOf } from "../../tools/lab/replay/state";
import { priorOutputs, stepsFor } from "../../tools/lab/replay/plan";
import { toEngineConfig } from "../../tools/offline/environment";
import { planEnvironment } from "../../tools/offline/stack";
import { PATTERNS } from "../../stacks/patterns";
import { ROOT, TEST_SSH_KEY } from "../support/plan";

jest.setTimeout(120_000);

const FILES = [
    "Pulumi.dev.yaml",
    "Pulumi.prod.yaml",
    ...readdirSync(path.join(ROOT, "lab"))
        .filter(f => f.endsWith(".yaml"))
        .map(f => `lab/${f}`),
];

/** Lists whose order means something: never shuffled. */
const ORDERED = new Set(["zabbix-ha:drbd.nodes"]);

/** mulberry32: a small seeded generator, so a failure names an order that can be planned again. */
function seeded(seed: number): () => number {
    let a = seed;
    return () => {
        a = (a + 0x6d2b79f5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** Every list reordered by `order`, inside out, except the ordered ones. */
function reorder(value: unknown, order: <T>(list: T[]) => T[], at = ""): unknown {
    if (Array.isArray(value)) {
        const items = value.map(v => reorder(v, order, at));
        return ORDERED.has(at) ? items : order(items);
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reorder(v, order, at ? `${at}.${k}` : k)]));
    }
    return value;
}

function shuffler(seed: number): <T>(list: T[]) => T[] {
    const random = seeded(seed);
    return list => {
        const out = [...list];
        for (let i = out.length - 1; i > 0; i--) {
            const j = Math.floor(random() * (i + 1));
            [out[i], out[j]] = [out[j], out[i]];
        }
        return out;
    };
}

/** The file's config values with db.primarySite set to what it means in the file's own order. */
function pinned(file: string): Record<string, unknown> {
    const values = structuredClone(
        (parse(readFileSync(path.join(ROOT, file), "utf8")) as { config: Record<string, unknown> }).config,
    );
    const sites = values["zabbix-ha:sites"] as { name: string; hosts: { roles: string[] }[] }[];
    const db = (values["zabbix-ha:db"] ?? {}) as Record<string, unknown>;
    const firstDbSite = sites.find(s => s.hosts.some(h => h.roles.includes("db")))?.name;
    if (db.primarySite === undefined && firstDbSite) {
        values["zabbix-ha:db"] = { ...db, primarySite: firstDbSite };
    }
    return values;
}

async function plan(
    file: string,
    values: Record<string, unknown>,
    pattern: string,
    prior?: Parameters<typeof priorOutputs>[0],
) {
    return planEnvironment(
        { file, ...toEngineConfig(values) },
        {
            secrets: { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY },
            overrides: { "zabbix-ha:pattern": pattern },
            placeholderSecrets: true,
            stack: "canonical",
            prior: priorOutputs(prior),
        },
    );
}

const ORDERS: readonly [string, <T>(list: T[]) => T[]][] = [
    ["reversed", list => [...list].reverse()],
    ["shuffled (seed 1)", shuffler(1)],
    ["shuffled (seed 2)", shuffler(2)],
    ["shuffled (seed 3)", shuffler(3)],
];

describe.each(FILES)("%s in another order plans nothing", file => {
    const original = pinned(file);

    test.each(PATTERNS.map(p => p.name))("pattern %s", async pattern => {
        const first = await plan(file, original, pattern);
        if (first.error) {
            // A pattern this file cannot form (the preview lists it with its errors): another order cannot either
            // (its message names the same problems at the reordered paths).
            const again = await plan(file, reorder(original, ORDERS[0][1]) as Record<string, unknown>, pattern);
            expect(again.error?.message.replace(/\[\d+\]/g, "[i]")).toBe(
                first.error.message.replace(/\[\d+\]/g, "[i]"),
            );
            return;
        }
        const state = { version: 1 as const, project: first.project, stack: first.stack, resources: goalsOf(first) };
        for (const [label, order] of ORDERS) {
            const values = reorder(original, order) as Record<string, unknown>;
            const sites = (v: Record<string, unknown>) => (v["zabbix-ha:sites"] as { name: string }[]).map(s => s.name);
            if (label === "reversed") {
                expect(sites(values)).toEqual([...sites(original)].reverse());
            }
            const replanned = await plan(file, values, pattern, state);
            expect({ order: label, error: replanned.error?.message }).toEqual({ order: label, error: undefined });
            const changes = stepsFor(state, replanned)
                .steps.filter(s => s.op !== "same")
                .map(s => `${s.op} ${s.name} [${s.keys.join(", ")}]`);
            expect({ order: label, changes }).toEqual({ order: label, changes: [] });
        }
    });
});
