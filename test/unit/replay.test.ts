/**
 * The lab's change replay without a lab: the diff by the providers' rules, the engine's order
 * (creates and updates first, delete-before-replace chains, every delete at the end in reverse
 * dependency order), and a failure half-way that the next apply resumes from. Synthetic states and
 * goals, a recording executor; and two tiny programs through the real capture for what the
 * capture adds (a password's reuse, a command's output refused as an input).
 */
import { readFileSync } from "fs";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import { HOST, RESOURCE_TYPES, SITE } from "../../components/facts";
import { capturePlan } from "../../tools/offline/capture";
import { ResourceExecutor, runSchedule } from "../../tools/lab/replay/apply";
import { Step, planChanges } from "../../tools/lab/replay/diff";
import { commandOutputInputs, priorOutputs, stepsFor } from "../../tools/lab/replay/plan";
import { scheduleOf } from "../../tools/lab/replay/schedule";
import { ResourceState, StackState, goalsOf } from "../../tools/lab/replay/state";
import { summaryOf } from "../../tools/lab/replay/summary";
import { sshArgs } from "../../tools/lab/machines/ssh";

const COMMAND: string = RESOURCE_TYPES.command;
const RANDOM_PASSWORD = RESOURCE_TYPES.randomPassword;
const ROLE = RESOURCE_TYPES.postgresqlRole;
const GRANT = RESOURCE_TYPES.postgresqlGrant;
const DATABASE = RESOURCE_TYPES.postgresqlDatabase;
const PROVIDER = RESOURCE_TYPES.postgresqlProvider;

const urn = (name: string, type = COMMAND) => `urn:pulumi:t::p::${type}::${name}`;

/** A command (by default) named `name`, depending on the named resources. */
function res(name: string, over: Partial<ResourceState> & { after?: string[] } = {}): ResourceState {
    const type = over.type ?? COMMAND;
    const { after, ...rest } = over;
    return {
        urn: urn(name, type),
        type,
        name,
        custom: true,
        secretInputs: [],
        options: {},
        propertyDependencies: {},
        inputs: type === COMMAND ? { create: `make ${name}`, delete: `unmake ${name}`, connection: { host: "h" } } : {},
        outputs: {},
        dependencies: (after ?? []).map(a => (a.includes("::") ? a : urn(a))),
        ...rest,
    };
}

const stack = (resources: ResourceState[]): StackState => ({ version: 1, project: "p", stack: "t", resources });
const ops = (steps: readonly Step[]) => Object.fromEntries(steps.map(s => [s.name, s.op]));

/** Records each provider call as "create x", "update x", "delete x"; fails the named call; some calls take longer. */
class Recording implements ResourceExecutor {
    readonly calls: string[] = [];
    constructor(
        private readonly failOn?: string,
        private readonly slow: Readonly<Record<string, number>> = {},
    ) {}
    private async call(what: string): Promise<void> {
        await new Promise(resolve => setTimeout(resolve, this.slow[what] ?? 2));
        if (what === this.failOn) {
            throw new Error(`${what} failed`);
        }
        this.calls.push(what);
    }
    async create(goal: ResourceState) {
        await this.call(`create ${goal.name}`);
        return { ran: goal.inputs.create };
    }
    async update(_old: ResourceState, goal: ResourceState) {
        await this.call(`update ${goal.name}`);
        return { ran: goal.inputs.create };
    }
    async delete(old: ResourceState) {
        await this.call(`delete ${old.name}`);
    }
}

async function apply(
    prior: StackState | undefined,
    goals: ResourceState[],
    executor: ResourceExecutor,
    replace: string[] = [],
    jobs = 3,
) {
    const steps = planChanges(prior, goals, { replace });
    const persisted: StackState[] = [];
    const result = await runSchedule(
        prior,
        { project: "p", stack: "t" },
        goals.map(g => g.urn),
        scheduleOf(steps),
        executor,
        { jobs, persist: s => persisted.push(s) },
    );
    return { steps, result, persisted };
}

describe("diff by the providers' rules", () => {
    test("a command: a changed script is an update, changed triggers a replace, an unchanged one the same", () => {
        const old = stack([
            res("a"),
            res("b", { inputs: { create: "x", triggers: ["1"], connection: { host: "h" } } }),
            res("c"),
        ]);
        const goals = [
            res("a", { inputs: { ...old.resources[0].inputs, create: "make a better" } }),
            res("b", { inputs: { create: "x", triggers: ["2"], connection: { host: "h" } } }),
            res("c"),
        ];
        const steps = planChanges(old, goals);
        expect(ops(steps)).toEqual({ a: "update", b: "replace", c: "same" });
        expect(steps.find(s => s.name === "a")!.keys).toEqual(["create"]);
        expect(steps.find(s => s.name === "b")!.deleteBeforeReplace).toBe(false);
    });

    test("ignoreChanges keeps the old values, so an ignored change plans nothing and the old text is recorded", () => {
        const old = stack([res("a")]);
        const goal = res("a", {
            inputs: { create: "make a elsewhere", delete: "unmake a elsewhere", connection: { host: "other" } },
            options: { ignoreChanges: ["create", "delete", "connection"] },
        });
        const [step] = planChanges(old, [goal]);
        expect(step.op).toBe("same");
        expect(step.goal!.inputs).toEqual(old.resources[0].inputs);
        // Only some ignored: the rest is still an update.
        const partly = res("a", {
            inputs: { create: "make a elsewhere", delete: "unmake a", connection: { host: "other" } },
            options: { ignoreChanges: ["connection.host"] },
        });
        expect(planChanges(old, [partly])[0]).toMatchObject({ op: "update", keys: ["create"] });
    });

    test("a RandomPassword is replaced by any input change, never updated", () => {
        const pw = (length: number) => res("pw", { type: RANDOM_PASSWORD, inputs: { length, special: false } });
        expect(planChanges(stack([pw(32)]), [pw(32)])[0].op).toBe("same");
        expect(planChanges(stack([pw(32)]), [pw(24)])[0]).toMatchObject({
            op: "replace",
            deleteBeforeReplace: false,
            keys: ["length"],
        });
    });

    test("a RandomBytes (a PSK) is replaced by any input change, never updated", () => {
        const key = (length: number) => res("psk", { type: RESOURCE_TYPES.randomBytes, inputs: { length } });
        expect(planChanges(stack([key(32)]), [key(32)])[0].op).toBe("same");
        expect(planChanges(stack([key(32)]), [key(48)])[0]).toMatchObject({ op: "replace", keys: ["length"] });
    });

    test("postgresql: a role and a provider update in place, a database's encoding and a grant's role replace it delete-before-replace", () => {
        const old = stack([
            res("prov", { type: PROVIDER, inputs: { host: "a", port: "5433" } }),
            res("role", { type: ROLE, inputs: { name: "zabbix", password: "p1", login: true } }),
            res("db", { type: DATABASE, inputs: { name: "zabbix", owner: "zabbix", encoding: "UTF8" } }),
            res("g", {
                type: GRANT,
                inputs: { role: "zabbix", database: "zabbix", objectType: "database", privileges: ["CONNECT"] },
            }),
        ]);
        const [prov, role, db, g] = old.resources;
        const changed = planChanges(old, [
            { ...prov, inputs: { host: "b", port: "5433" } },
            { ...role, inputs: { name: "zabbix", password: "p2", login: true } },
            { ...db, inputs: { ...db.inputs, encoding: "SQL_ASCII" } },
            { ...g, inputs: { ...g.inputs, role: "other" } },
        ]);
        expect(changed.map(s => [s.name, s.op, s.deleteBeforeReplace ?? false])).toEqual([
            ["prov", "update", false],
            ["role", "update", false],
            ["db", "replace", true],
            ["g", "replace", true],
        ]);
        const owner = planChanges(old, [
            prov,
            role,
            { ...db, inputs: { ...db.inputs, owner: "postgres" } },
            { ...g, inputs: { ...g.inputs, privileges: ["CONNECT", "TEMPORARY"] } },
        ]);
        expect(ops(owner)).toEqual({ prov: "same", role: "same", db: "update", g: "update" });
    });

    test("a component is updated when its inputs change and never replaced by them", () => {
        const site = (lost: boolean) =>
            res("site", { type: SITE.token, custom: false, inputs: { site: "tokyo", lost } });
        expect(planChanges(stack([site(false)]), [site(true)])[0].op).toBe("update");
    });

    test("--replace replaces an unchanged resource; an option change alone is the same", () => {
        const old = stack([res("a"), res("b")]);
        const steps = planChanges(old, [res("a"), res("b", { options: { retainOnDelete: true } })], {
            replace: [urn("a")],
        });
        expect(steps.map(s => [s.name, s.op, s.cause ?? ""])).toEqual([
            ["a", "replace", "forced"],
            ["b", "same", ""],
        ]);
        expect(steps[1].goal!.options).toEqual({ retainOnDelete: true });
    });

    test("a protected resource is never deleted or replaced", () => {
        const old = stack([res("a", { options: { protect: true } })]);
        expect(() => planChanges(old, [])).toThrow(/protected and would be deleted/);
        expect(() => planChanges(old, [res("a", { options: { protect: true } })], { replace: [urn("a")] })).toThrow(
            /protected and would be replaced/,
        );
    });
});

describe("the engine's order", () => {
    test("a replace without deleteBeforeReplace creates the new one first and deletes the old one after everything else", async () => {
        const old = stack([res("a"), res("b", { after: ["a"] }), res("gone")]);
        const executor = new Recording();
        const { result, persisted } = await apply(
            old,
            [res("a"), res("b", { after: ["a"] }), res("new")],
            executor,
            [urn("a")],
            1,
        );
        expect(executor.calls).toEqual(["create a", "create new", "delete a", "delete gone"]);
        // Between the new one's create and the old one's delete, the old half is recorded as pending.
        expect(persisted[0].resources.filter(r => r.name === "a").map(r => r.pendingDelete ?? false)).toEqual([
            false,
            true,
        ]);
        expect(result.state.resources.map(r => r.name)).toEqual(["a", "b", "new"]);
    });

    test("a replace with deleteBeforeReplace deletes the old one (and the dependents it must replace, first) before making it again", async () => {
        const role = res("role", { type: ROLE, inputs: { name: "zabbix" } });
        const grant = res("grant", {
            type: GRANT,
            inputs: { role: "zabbix", database: "zabbix", objectType: "database", privileges: ["CONNECT"] },
            after: [role.urn],
            propertyDependencies: { role: [role.urn] },
        });
        // Only a dependsOn edge: its inputs cannot change, so it is not replaced.
        const step = res("step", { after: [role.urn] });
        const old = stack([role, grant, step]);
        const executor = new Recording();
        const { steps } = await apply(old, [role, grant, step], executor, [role.urn]);
        expect(ops(steps)).toEqual({ role: "replace", grant: "replace", step: "same" });
        expect(executor.calls).toEqual(["delete grant", "delete role", "create role", "create grant"]);
    });

    test("a follow step's deleteBeforeReplace option reverses a command's replacement", async () => {
        const follow = res("follow", {
            inputs: { create: "follow", delete: "leave", connection: { host: "h" } },
            options: { deleteBeforeReplace: true },
        });
        const executor = new Recording();
        await apply(stack([follow]), [follow], executor, [follow.urn]);
        expect(executor.calls).toEqual(["delete follow", "create follow"]);
    });

    test("deletes run after every create and update, in reverse dependency order, antichain by antichain", async () => {
        // Removed: c depends on b, b on a; d on nothing. Kept: k, updated; new: n.
        const old = stack([res("a"), res("b", { after: ["a"] }), res("c", { after: ["b"] }), res("d"), res("k")]);
        const steps = planChanges(old, [
            res("k", { inputs: { create: "make k again", connection: { host: "h" } } }),
            res("n"),
        ]);
        const schedule = scheduleOf(steps);
        expect(schedule.deletes.map(level => level.map(a => (a.kind === "delete" ? a.old.name : "?")).sort())).toEqual([
            ["c"],
            ["b"],
            ["a", "d"],
        ]);
        const executor = new Recording();
        await runSchedule(old, { project: "p", stack: "t" }, [urn("k"), urn("n")], schedule, executor, {
            jobs: 3,
            persist: () => undefined,
        });
        expect(executor.calls.slice(0, 2).sort()).toEqual(["create n", "update k"]);
        expect(executor.calls.slice(2)).toEqual([
            "delete c",
            "delete b",
            expect.stringMatching(/^delete [ad]$/),
            expect.stringMatching(/^delete [ad]$/),
        ]);
    });

    test("creates follow dependencies, and a delete of a component or a retained resource calls no provider", async () => {
        const parent = res("host", { type: HOST.token, custom: false, inputs: { host: "h" } });
        const old = stack([parent, res("kept", { options: { retainOnDelete: true } })]);
        const executor = new Recording();
        const goals = [res("second", { after: ["first"] }), res("first", { parent: parent.urn }), parent];
        const { steps } = await apply(old, goals, executor);
        expect(summaryOf(steps)).toEqual({
            create: ["second", "first"],
            update: [],
            replace: [],
            delete: ["kept"],
            same: ["host"],
        });
        expect(executor.calls).toEqual(["create first", "create second"]);
    });
});

describe("a failure half-way", () => {
    const chain = () => [res("a"), res("b", { after: ["a"] }), res("c", { after: ["b"] })];

    test("stops scheduling, records exactly what completed, and the next apply resumes from there", async () => {
        const failing = new Recording("create b");
        const first = await apply(undefined, chain(), failing);
        expect(first.result.failure?.message).toBe("create b failed");
        expect(failing.calls).toEqual(["create a"]);
        expect(first.result.state.resources.map(r => r.name)).toEqual(["a"]);
        expect(first.persisted[first.persisted.length - 1]).toEqual(first.result.state);

        const executor = new Recording();
        const second = await apply(first.result.state, chain(), executor);
        expect(ops(second.steps)).toEqual({ a: "same", b: "create", c: "create" });
        expect(executor.calls).toEqual(["create b", "create c"]);
        expect(planChanges(second.result.state, chain()).every(s => s.op === "same")).toBe(true);
    });

    test("the old half of a replacement stays pending when the apply fails after its create, and the next apply deletes it", async () => {
        const old = stack([res("a"), res("z")]);
        const goals = [
            res("a"),
            res("z", { inputs: { create: "make z again", connection: { host: "h" } }, after: ["a"] }),
        ];
        const first = await apply(old, goals, new Recording("update z"), [urn("a")]);
        expect(first.result.state.resources.map(r => `${r.name}${r.pendingDelete ? " (pending)" : ""}`)).toEqual([
            "a",
            "a (pending)",
            "z",
        ]);
        const executor = new Recording();
        const second = await apply(first.result.state, goals, executor);
        expect(second.steps.map(s => [s.name, s.op, s.cause ?? ""])).toEqual([
            ["a", "same", ""],
            ["z", "update", ""],
            ["a", "delete", "pending"],
        ]);
        expect(executor.calls).toEqual(["update z", "delete a"]);
        expect(second.result.state.resources.map(r => r.name)).toEqual(["a", "z"]);
    });

    test("units under way when the failure happens finish and are recorded", async () => {
        const goals = [res("slow"), res("bad"), res("after-slow", { after: ["slow"] })];
        const executor = new Recording("create bad", { "create slow": 50 });
        const { result } = await apply(undefined, goals, executor, [], 2);
        expect(result.failure).toBeDefined();
        expect(result.state.resources.map(r => r.name)).toEqual(["slow"]);
        expect(executor.calls).not.toContain("create after-slow");
    });
});

describe("through the capture", () => {
    function program(length: number) {
        return () => {
            const pw = new random.RandomPassword("pw", { length, special: false });
            new command.remote.Command("uses-pw", {
                connection: { host: "198.18.1.10" },
                create: "read -r pw",
                stdin: pw.result,
            });
        };
    }
    const plan = (length: number, state?: StackState) =>
        capturePlan(program(length), { config: {}, project: "p", stack: "t", prior: priorOutputs(state) });

    test("an unchanged RandomPassword keeps its result, so the step that reads it is the same too", async () => {
        const first = await plan(16);
        const state = stack(goalsOf(first));
        const again = await plan(16, state);
        const result = (p: typeof first) => p.resources.find(r => r.type === RANDOM_PASSWORD)!.outputs.result;
        expect(result(again)).toBe(result(first));
        expect(summaryOf(stepsFor(state, again).steps)).toEqual({
            create: [],
            update: [],
            replace: [],
            delete: [],
            same: ["pw", "uses-pw"],
        });

        const longer = await plan(20, state);
        expect(result(longer)).not.toBe(result(first));
        expect(ops(stepsFor(state, longer).steps)).toEqual({ pw: "replace", "uses-pw": "update" });
    });

    test("an input computed from a command's output is refused", async () => {
        const captured = await capturePlan(
            () => {
                const first = new command.remote.Command("first", {
                    connection: { host: "198.18.1.10" },
                    create: "hostname",
                });
                new command.remote.Command("second", {
                    connection: { host: "198.18.1.10" },
                    create: "read -r x",
                    stdin: first.stdout,
                });
            },
            { config: {}, project: "p", stack: "t" },
        );
        expect(commandOutputInputs(captured)).toEqual(["second.stdin <- first"]);
        expect(() => stepsFor(undefined, captured)).toThrow(/a command's output/);
    });
});

describe("SSH as the provider does it", () => {
    const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPUUbKbVxDY2vMbrGydUaaHoyF6V/0gJ4AOInjXwyRxz";
    const base = { host: "198.18.1.10", port: 22, user: "root", key: "/nonexistent/key" };
    const option = (args: string[], name: string) =>
        args.filter((a, i) => args[i - 1] === "-o" && a.startsWith(`${name}=`)).map(a => a.slice(name.length + 1));

    test("a pinned key: only that key is accepted, and only its type is asked for (FixedHostKey, HostKeyAlgorithms)", () => {
        const args = sshArgs({ ...base, hostKey: KEY });
        expect(option(args, "StrictHostKeyChecking")).toEqual(["yes"]);
        expect(option(args, "HostKeyAlgorithms")).toEqual(["ssh-ed25519"]);
        const [alias] = option(args, "HostKeyAlias");
        const [known] = option(args, "UserKnownHostsFile");
        expect(readFileSync(known, "utf8")).toBe(`${alias} ${KEY}\n`);
        // Another key gets another file: two hosts never share a pin.
        const other = sshArgs({ ...base, hostKey: KEY.replace("PUUb", "PUUc") });
        expect(option(other, "UserKnownHostsFile")).not.toEqual([known]);
    });

    test("no pin: any key is accepted, as the provider without hostKey does", () => {
        const args = sshArgs(base);
        expect(option(args, "StrictHostKeyChecking")).toEqual(["no"]);
        expect(option(args, "UserKnownHostsFile")).toEqual(["/dev/null"]);
        expect(option(args, "HostKeyAlgorithms")).toEqual([]);
    });
});
