/**
 * What the lab reads off an applied plan (the capture's resources as goals, or the lab's per-URN
 * record of them): the stack's outputs, typed as the stack program declares them, and for each
 * Zabbix installation its database component and the logins its resources carry. Nothing here
 * rebuilds a resource's name: a database component is the one whose declared facts are the
 * installation's in the stack's design, and its logins are the inputs of the resources the product
 * declares under it (the zabbix role, the PostgreSQL provider it creates that role through).
 */
import { MANAGED_DATABASE, PATRONI, POSTGRES, RESOURCE_TYPES } from "../../../components/facts";
import { SUPER_ADMIN_PASSWORD_OUTPUT } from "../../../components/zabbix/superAdmin";
import type { InstanceDesign } from "../../../model";
import type { StackOutputs } from "../../../stacks/patterns";
import { StackPlan } from "../../offline";
import { DeployedFacts, PgConnection, connectionOf } from "../machines";
import { deepEqual } from "./diff";
import { ResourceState } from "./state";

/** The stack program's outputs (topology, model, design, UI URLs); a program that failed has none. */
export function stackOutputs(outputs: Readonly<Record<string, unknown>> | undefined): Partial<StackOutputs> {
    return (outputs ?? {}) as Partial<StackOutputs>;
}

/**
 * The Zabbix Super Admin's password, as the plan generated it: its secret stack output, which the
 * capture resolves to the RandomPassword's result (a plan from before the output has none).
 */
export function superAdminPassword(outputs: Readonly<Record<string, unknown>> | undefined): string | undefined {
    const value = outputs?.[SUPER_ADMIN_PASSWORD_OUTPUT];
    return typeof value === "string" ? value : undefined;
}

/** The plan's outputs, kept in the state file for `drill` (its resources are kept per URN beside them). */
export function deployedFacts(plan: StackPlan): DeployedFacts {
    return { outputs: { ...(plan.outputs ?? {}) } };
}

/** A PostgreSQL role and its password, as the plan sets them. */
export interface Login {
    readonly user: string;
    readonly password: string;
}

/** One installation's database as the plan built it. */
export interface InstanceDatabase {
    /** The database component: a PostgresCluster, PatroniCluster or ManagedDatabase. */
    readonly component: ResourceState;
    /** The PostgreSQL provider the program creates the roles and the database through: where it connects, as whom. */
    readonly provider?: PgConnection;
    /** The role Zabbix logs in as (db.user), with the password the plan gave it. */
    readonly zabbix?: Login;
}

const DATABASE_TOKENS: readonly string[] = [POSTGRES.token, PATRONI.token, MANAGED_DATABASE.token];

/** The facts a database component of this installation declares, as the design holds them. */
const declaredFacts = (design: InstanceDesign) =>
    "managed" in design.database ? design.database.managed : design.database.selfRun;

const loginOf = (user: unknown, password: unknown): Login | undefined =>
    typeof user === "string" && typeof password === "string" ? { user, password } : undefined;

/**
 * Each installation's database by name, from the stack's design and the resources: the component
 * whose declared facts are the installation's, the provider under it, and its role named `zabbixUser`.
 */
export function instanceDatabases(
    resources: readonly ResourceState[],
    outputs: Partial<StackOutputs>,
    zabbixUser: string,
): Map<string, InstanceDatabase> {
    const live = resources.filter(r => !r.pendingDelete);
    const components = live.filter(r => DATABASE_TOKENS.includes(r.type));
    const found = new Map<string, InstanceDatabase>();
    for (const design of outputs.design?.instances ?? []) {
        const component = components.find(c => deepEqual(c.inputs, declaredFacts(design)));
        if (!component) {
            continue;
        }
        const under = (type: string) => live.filter(r => r.parent === component.urn && r.type === type);
        const [provider] = under(RESOURCE_TYPES.postgresqlProvider);
        const role = under(RESOURCE_TYPES.postgresqlRole).find(r => r.inputs.name === zabbixUser);
        found.set(design.name, {
            component,
            provider: provider && connectionOf(provider.inputs),
            zabbix: role && loginOf(role.inputs.name, role.inputs.password),
        });
    }
    return found;
}
