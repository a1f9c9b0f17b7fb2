/**
 * Planning the stack for the lab (`planLab`: as the preview plans it, with the lab's key and pattern),
 * and planning a change against the recorded state, as `pulumi up` plans it: the program runs with the
 * outputs of every resource the engine would leave alone (a RandomPassword keeps its result, so the
 * steps that read it do not change), and a plan whose inputs wait for a command's output is refused,
 * since neither the lab nor a preview can know that output before the command runs.
 */
import * as path from "path";
import { RESOURCE_TYPES } from "../../../components/facts";
import {
    CaptureOptions,
    CapturedPlan,
    PlanOptions,
    PriorQuery,
    StackPlan,
    planEnvironment,
    readEnvironment,
} from "../../offline";
import { withProviderCa } from "../machines/providerCa";
import { Step, diffResource, planChanges, withIgnoredChanges } from "./diff";
import { ResourceState, StackState, goalsOf } from "./state";
import { urnOf } from "./urn";

/** The URN a capture query will have, in the recorded stack. */
function urnOfQuery(state: Pick<StackState, "stack" | "project">, q: PriorQuery): string {
    return urnOf(state.stack, state.project, {
        type: q.type,
        name: q.name,
        parentTypes: q.ancestors.map(id => id.split("::")[0]),
    });
}

/**
 * The capture's `prior` hook: a resource whose diff against its record is empty (ignored
 * properties at their old values) gets its recorded outputs back; any other is planned afresh.
 */
export function priorOutputs(
    state: StackState | undefined,
    replace: ReadonlySet<string> = new Set(),
): CaptureOptions["prior"] {
    if (!state) {
        return undefined;
    }
    const live = new Map(state.resources.filter(r => !r.pendingDelete).map(r => [r.urn, r]));
    return q => {
        const urn = urnOfQuery(state, q);
        const old = live.get(urn);
        if (!old || replace.has(urn)) {
            return undefined;
        }
        // The provider reference cannot change without the dependencies changing too; the full diff checks it again.
        const goal: ResourceState = {
            ...old,
            custom: q.custom,
            inputs: q.inputs,
            options: { ...q.options, deletedWith: old.options.deletedWith },
        };
        const diff = diffResource(old, withIgnoredChanges(old, goal));
        return diff.changed.length === 0 ? old.outputs : undefined;
    };
}

/** Every input of the plan that is computed from a remote command's output (stdout, stderr). */
export function commandOutputInputs(plan: CapturedPlan): string[] {
    const commands = new Set(plan.resources.filter(r => r.type === RESOURCE_TYPES.command).map(r => r.id));
    return plan.resources.flatMap(r =>
        Object.entries(r.propertyDependencies ?? {})
            .filter(([, ids]) => ids.some(id => commands.has(id)))
            .map(
                ([key, ids]) =>
                    `${r.name}.${key} <- ${ids
                        .filter(id => commands.has(id))
                        .map(id => id.split("::")[1])
                        .join(", ")}`,
            ),
    );
}

/** Refuses a plan with an input only a command's run could tell. */
export function refuseCommandOutputInputs(plan: CapturedPlan): void {
    const found = commandOutputInputs(plan);
    if (found.length > 0) {
        throw new Error(
            "the plan feeds a command's output into other resources' inputs, which no preview can know before the command runs " +
                `(the library must not do that): ${found.join("; ")}`,
        );
    }
}

/** `--replace NAME`: a recorded resource's URN or its name (unique), as `pulumi up --replace URN` takes a URN. */
export function resolveReplaceTargets(state: StackState, names: readonly string[]): string[] {
    const live = state.resources.filter(r => !r.pendingDelete);
    return names.map(name => {
        const found = live.filter(r => r.urn === name || r.name === name);
        if (found.length !== 1) {
            throw new Error(
                found.length === 0
                    ? `--replace ${name}: no recorded resource has that name or URN (\`npm run lab -- apply --preview\` lists them)`
                    : `--replace ${name}: ${found.length} resources have that name; give the URN: ${found.map(r => r.urn).join(", ")}`,
            );
        }
        return found[0].urn;
    });
}

/** The plan's goals and the steps from the recorded state to them. */
export function stepsFor(
    state: StackState | undefined,
    plan: CapturedPlan,
    replace: readonly string[] = [],
): { goals: ResourceState[]; steps: Step[] } {
    refuseCommandOutputInputs(plan);
    const goals = goalsOf(plan);
    return { goals, steps: planChanges(state, goals, { replace }) };
}

/**
 * The config's sites with each lab host's key pinned (`sshHostKey`), as an operator pins the keys of
 * real hosts: the lab makes its hosts' keys (hostKeys.ts), so only it can write them in.
 */
export function withHostKeys(sites: string | undefined, hostKeys: ReadonlyMap<string, string>): string {
    const parsed = JSON.parse(sites ?? "[]") as { hosts?: { name?: string; sshHostKey?: string }[] }[];
    for (const site of parsed) {
        for (const host of site.hosts ?? []) {
            const key = host.name === undefined ? undefined : hostKeys.get(host.name);
            if (key) {
                host.sshHostKey = key;
            }
        }
    }
    return JSON.stringify(parsed);
}

/**
 * Plans the stack exactly as the preview does, with the lab's key as a secret and its pattern as an
 * override; `apply` also names the stack and hands the recorded outputs in (`extra`).
 */
export async function planLab(
    configFile: string,
    privateKey: string,
    hostKeys: ReadonlyMap<string, string>,
    pattern?: string,
    cloudDbAdminPassword?: string,
    extra: Pick<PlanOptions, "stack" | "prior"> & {
        /** The CA of the provider the lab plays (providerCa.ts), written in as cloud.database.caCertificate. */
        readonly providerCaCertPem?: string;
    } = {},
): Promise<StackPlan> {
    const { providerCaCertPem, ...planOptions } = extra;
    const environment = readEnvironment(configFile);
    // Secrets as `pulumi config set --secret` would set them.
    const secrets: Record<string, string> = { "zabbix-ha:sshPrivateKey": privateKey };
    if (cloudDbAdminPassword) {
        // The lab plays the cloud provider, so it also makes up the admin password the provider would hand out.
        secrets["zabbix-ha:cloudDbAdminPassword"] = cloudDbAdminPassword;
    }
    const overrides: Record<string, string> = {
        "zabbix-ha:sites": withHostKeys(environment.config["zabbix-ha:sites"], hostKeys),
        ...(pattern ? { "zabbix-ha:pattern": pattern } : {}),
    };
    const cloud = providerCaCertPem && withProviderCa(environment.config["zabbix-ha:cloud"], providerCaCertPem);
    if (cloud) {
        overrides["zabbix-ha:cloud"] = cloud;
    }
    const plan = await planEnvironment(environment, { overrides, secrets, ...planOptions });
    if (plan.error) {
        throw new Error(`${path.basename(configFile)}: the stack program failed: ${plan.error.message}`);
    }
    return plan;
}
