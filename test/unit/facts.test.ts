/**
 * The contract between the components, the policies and the model: each component's facts are
 * defined once (components/facts), and here every plan of every pattern is held to it. A
 * component that declares a fact its definition lacks (or leaves one out, or spells a value the
 * schema does not know), a policy or the model that reads a fact no component declares, or a
 * design that is not the facts the components registered: each fails this test.
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { COMPONENTS, PACKAGE, factProblems } from "../../components/facts";
import { StackDesign, Topology, topologyOf } from "../../model";
import { runPolicies } from "../../policies/harness";
import { PATTERNS } from "../../stacks/patterns";
import { CapturedPlan } from "../../tools/offline/capture";
import { readEnvironment } from "../../tools/offline/environment";
import { planEnvironment } from "../../tools/offline/stack";
import { ROOT, TEST_SSH_KEY } from "../support/plan";

/** Every environment the repository ships or tests with, as each pattern plans it where it can. */
const ENVIRONMENTS = [
    ...["Pulumi.dev.yaml", "Pulumi.prod.yaml"].map(f => path.join(ROOT, f)),
    ...fs.readdirSync(path.join(ROOT, "lab")).map(f => path.join(ROOT, "lab", f)),
    ...fs.readdirSync(path.join(ROOT, "test", "fixtures")).map(f => path.join(ROOT, "test", "fixtures", f)),
];

const plans: { readonly label: string; readonly plan: CapturedPlan }[] = [];

beforeAll(async () => {
    for (const file of ENVIRONMENTS) {
        for (const pattern of PATTERNS) {
            const plan = await planEnvironment(readEnvironment(file), {
                placeholderSecrets: true,
                secrets: { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY },
                overrides: { "zabbix-ha:pattern": pattern.name },
            });
            if (!plan.error) {
                plans.push({ label: `${path.relative(ROOT, file)} as ${pattern.name}`, plan });
            }
        }
    }
}, 300_000);

const definitionOf = (type: string) => COMPONENTS.find(c => c.token === type);

/** JSON with every object's keys in order: the same facts compare equal however they were assembled. */
function canonical(value: unknown): string {
    return JSON.stringify(value, (_, v) =>
        v && typeof v === "object" && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
            : v,
    );
}

/** The fact paths a schema declares, `[]` marking a list's items and `*` a record's keys. */
function declaredPaths(schema: z.ZodType, prefix: string, into: Set<string>): Set<string> {
    const def = schema as unknown as {
        def: {
            type: string;
            innerType?: z.ZodType;
            element?: z.ZodType;
            valueType?: z.ZodType;
            shape?: Record<string, z.ZodType>;
        };
    };
    switch (def.def.type) {
        case "optional":
        case "nullable":
            return declaredPaths(def.def.innerType!, prefix, into);
        case "object":
            for (const [key, value] of Object.entries((schema as z.ZodObject).shape)) {
                into.add(`${prefix}${key}`);
                declaredPaths(value as z.ZodType, `${prefix}${key}.`, into);
            }
            return into;
        case "array":
            into.add(`${prefix}[]`);
            return declaredPaths(def.def.element!, `${prefix}[].`, into);
        case "record":
            into.add(`${prefix}*`);
            return into;
        default:
            return into;
    }
}

/** Property names a reader touches that are not facts: the language's own and the test runner's. */
const NOT_FACTS = new Set([
    "then",
    "toJSON",
    "constructor",
    "length",
    "asymmetricMatch",
    "$$typeof",
    "nodeType",
    "tagName",
    "@@__IMMUTABLE_ITERABLE__@@",
    "@@__IMMUTABLE_RECORD__@@",
]);

/** Wraps facts so that every fact read is recorded by its path, as `declaredPaths` spells them. */
function recording<T>(value: T, read: Set<string>, prefix = ""): T {
    if (value === null || typeof value !== "object") {
        return value;
    }
    return new Proxy(value as object, {
        get(target, key, receiver) {
            const result = Reflect.get(target, key, receiver);
            if (typeof key === "symbol" || NOT_FACTS.has(key) || typeof result === "function") {
                return result;
            }
            const isIndex = Array.isArray(target) && /^\d+$/.test(key);
            const at = isIndex ? `${prefix}[]` : `${prefix}${key}`;
            read.add(at);
            return recording(result, read, `${at}.`);
        },
    }) as T;
}

/** The paths read that the definition does not declare (a record's keys are all declared). */
function undeclared(read: ReadonlySet<string>, declared: ReadonlySet<string>): string[] {
    return [...read].filter(p => !declared.has(p) && !declared.has(p.replace(/[^.]+$/, "*")));
}

describe("the facts contract", () => {
    it("plans every pattern on the shipped environments and fixtures", () => {
        // Each environment plans under at least the pattern it was written for.
        expect(plans.length).toBeGreaterThanOrEqual(ENVIRONMENTS.length);
    });

    it("defines every component a plan holds, each token once", () => {
        const tokens = COMPONENTS.map(c => c.token);
        expect(new Set(tokens).size).toBe(tokens.length);
        for (const { label, plan } of plans) {
            const undefinedComponents = plan.resources.filter(
                r => r.type.startsWith(`${PACKAGE}:`) && !definitionOf(r.type),
            );
            expect({ label, undefinedComponents: undefinedComponents.map(r => r.type) }).toEqual({
                label,
                undefinedComponents: [],
            });
        }
    });

    it("holds every component's declared facts to its definition", () => {
        for (const { label, plan } of plans) {
            const problems = plan.resources.flatMap(r => {
                const definition = definitionOf(r.type);
                return definition
                    ? factProblems({ type: r.type, props: r.inputs }, definition).map(p => `${r.name}: ${p}`)
                    : [];
            });
            expect({ label, problems }).toEqual({ label, problems: [] });
        }
    });

    it("lets the policies read only facts the components declare", async () => {
        for (const { label, plan } of plans) {
            const reads = new Map<string, Set<string>>();
            const resources = plan.resources
                .filter(r => r.type !== "pulumi:pulumi:Stack")
                .map(r => {
                    if (!definitionOf(r.type)) {
                        return { type: r.type, name: r.name, props: r.inputs };
                    }
                    const read = reads.get(r.type) ?? new Set<string>();
                    reads.set(r.type, read);
                    return { type: r.type, name: r.name, props: recording(r.inputs, read) };
                });
            await runPolicies(resources);
            const problems = [...reads].flatMap(([type, read]) =>
                undeclared(read, declaredPaths(definitionOf(type)!.facts, "", new Set())).map(p => `${type}: ${p}`),
            );
            expect({ label, problems }).toEqual({ label, problems: [] });
        }
    });

    it("derives the model's topology from the very facts the components registered, reading only declared ones", () => {
        for (const { label, plan } of plans) {
            const outputs = plan.outputs as { design: StackDesign; topology: Topology };
            const registered = plan.resources.filter(r => definitionOf(r.type)).map(r => canonical(r.inputs));
            const facts: object[] = [
                ...outputs.design.hosts,
                ...outputs.design.instances.flatMap(i => [
                    i.servers,
                    "selfRun" in i.database ? i.database.selfRun : i.database.managed,
                    ...i.frontends,
                    ...i.loadBalancers,
                    ...(i.pair ? [i.pair] : []),
                ]),
            ];
            const notRegistered = facts.filter(f => !registered.includes(canonical(f)));
            expect({ label, notRegistered }).toEqual({ label, notRegistered: [] });

            const read = new Map<string, Set<string>>();
            const watch = <T>(token: string, value: T): T => {
                const set = read.get(token) ?? new Set<string>();
                read.set(token, set);
                return recording(value, set);
            };
            const byToken = (value: object) =>
                plan.resources.find(r => definitionOf(r.type) && canonical(r.inputs) === canonical(value))!.type;
            const watched: StackDesign = {
                ...outputs.design,
                hosts: outputs.design.hosts.map(h => watch(byToken(h), h)),
                instances: outputs.design.instances.map(i => ({
                    ...i,
                    servers: watch(byToken(i.servers), i.servers),
                    database:
                        "selfRun" in i.database
                            ? { selfRun: watch(byToken(i.database.selfRun), i.database.selfRun) }
                            : { managed: watch(byToken(i.database.managed), i.database.managed) },
                    frontends: i.frontends.map(f => watch(byToken(f), f)),
                    loadBalancers: i.loadBalancers.map(l => watch(byToken(l), l)),
                    ...(i.pair ? { pair: watch(byToken(i.pair), i.pair) } : {}),
                })),
            };
            expect(topologyOf(watched)).toEqual(outputs.topology);
            const problems = [...read].flatMap(([type, paths]) =>
                undeclared(paths, declaredPaths(definitionOf(type)!.facts, "", new Set())).map(p => `${type}: ${p}`),
            );
            expect({ label, problems }).toEqual({ label, problems: [] });
        }
    });

    it("reports a fact a definition does not declare, and one it declares but a component leaves out", () => {
        const [site] = COMPONENTS;
        expect(
            factProblems(
                { type: site.token, props: { site: "a", network: "198.18.1.0/24", l2Segment: false, vlan: 7 } },
                site,
            ),
        ).toEqual([expect.stringContaining("vlan")]);
        expect(factProblems({ type: site.token, props: { site: "a", network: "198.18.1.0/24" } }, site)).toEqual([
            expect.stringMatching(/^l2Segment: /),
        ]);
    });
});
