import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { PasswordRole } from "../config/types";

/** Passwords of the cluster's roles. Every value is a Pulumi secret. */
export interface DbPasswords {
    /** The provider's admin role (superuser, reachable only from the load balancers and admin network). */
    readonly admin: pulumi.Output<string>;
    /** The load balancers' check role, which only asks `pg_is_in_recovery()`. */
    readonly check: pulumi.Output<string>;
    /** The replication role replicas stream with. */
    readonly replication: pulumi.Output<string>;
    /** The zabbix role that owns the Zabbix database. */
    readonly zabbix: pulumi.Output<string>;
}

/** Length of every generated password; the policy pack asks for at least 20. */
export const PASSWORD_LENGTH = 32;

/**
 * How many times each password was rotated (db.passwordRotation): raising a count replaces that
 * RandomPassword, so `pulumi up` sets the new value on the role and on every host that uses it.
 */
export type PasswordRotation = Readonly<Partial<Record<PasswordRole, number>>>;

/**
 * Generates the cluster's passwords with @pulumi/random. Letters and digits only: the values are
 * written into .pgpass, SQL literals and PHP-read files, where quoting characters would need escaping.
 */
export function createDbPasswords(name: string, rotation: PasswordRotation = {}): DbPasswords {
    const make = (role: keyof DbPasswords) => randomPassword(name, role, rotation[role]);
    return { admin: make("admin"), check: make("check"), replication: make("replication"), zabbix: make("zabbix") };
}

/** One more generated password, for a role only some designs have (Patroni's superuser). */
export function randomPassword(name: string, role: string, rotation = 0): pulumi.Output<string> {
    return new random.RandomPassword(`${name}-${role}-password`, {
        length: PASSWORD_LENGTH,
        special: false,
        // Only once rotated: a stack that never rotates keeps its passwords when this option arrives.
        ...(rotation > 0 ? { keepers: { rotation: String(rotation) } } : {}),
    }).result;
}
