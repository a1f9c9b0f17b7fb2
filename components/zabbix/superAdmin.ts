/**
 * The Zabbix Super Admin's password, generated per stack: the schema step sets it (never the
 * shipped `zabbix`), the stack exports it as a secret output, and the config sync logs in with it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { PASSWORD_LENGTH } from "../postgres/passwords";
import { SUPER_ADMIN_USER } from "../postgres/schema";

export { SUPER_ADMIN_USER };

/** The stack output that holds the Super Admin's password (a secret): `pulumi stack output --show-secrets`. */
export const SUPER_ADMIN_PASSWORD_OUTPUT = "zabbixAdminPassword";

/** The Super Admin's password and the bcrypt hash Zabbix keeps of it; both Pulumi secrets. */
export interface SuperAdminPassword {
    readonly password: pulumi.Output<string>;
    /** What users.passwd holds: computed once by the provider and kept, so every run sets the same one. */
    readonly bcryptHash: pulumi.Output<string>;
}

/** A RandomPassword for `Admin`: letters and digits, as long as the database roles' passwords. */
export function superAdminPassword(name: string): SuperAdminPassword {
    const generated = new random.RandomPassword(`${name}-super-admin-password`, {
        length: PASSWORD_LENGTH,
        special: false,
    });
    return { password: pulumi.secret(generated.result), bcryptHash: pulumi.secret(generated.bcryptHash) };
}
