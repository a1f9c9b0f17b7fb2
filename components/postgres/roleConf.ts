/**
 * The PostgreSQL settings that follow a DB host's role, primary or replica
 * (conf.d/zabbix-ha-role.conf), a pure renderer.
 */
import { RENDERED_HEADER } from "../shell";
import { PgClientTls, clientConninfo } from "./tls";

/** The drop-in's name in PostgreSQL's conf.d. */
export const ROLE_CONF_DROP_IN = "zabbix-ha-role.conf";

/** What the role drop-in says: a primary's synchronous standbys, or where a replica streams from. */
export type PostgresRoleConfInput =
    | { readonly role: "primary"; readonly synchronousStandbys: readonly string[] }
    | {
          readonly role: "replica";
          readonly primaryAddress: string;
          readonly primaryPort: number;
          readonly replicationUser: string;
          /** This host's name, sent as application_name: sync replication names standbys by it. */
          readonly applicationName: string;
          readonly slotName: string;
          /** The postgres user's .pgpass, where the replication password lives. */
          readonly passfile: string;
          /** The CA the primary's certificate must verify against. */
          readonly tls: PgClientTls;
      };

/** Settings that depend on the host's current role. On a replica the primary's address lives here. */
export function renderPostgresRoleConf(c: PostgresRoleConfInput): string {
    if (c.role === "primary") {
        const sync =
            c.synchronousStandbys.length > 0
                ? `ANY 1 (${c.synchronousStandbys.map(name => `"${name}"`).join(", ")})`
                : "";
        return `# ${RENDERED_HEADER}
# This host is the primary.
synchronous_standby_names = '${sync}'
`;
    }
    const conninfo = [
        `host=${c.primaryAddress}`,
        `port=${c.primaryPort}`,
        `user=${c.replicationUser}`,
        `application_name=${c.applicationName}`,
        `passfile=${c.passfile}`,
        "connect_timeout=5",
        // The primary's certificate must verify against the stack's CA and carry the address above.
        clientConninfo(c.tls),
    ].join(" ");
    return `# ${RENDERED_HEADER}
# This host is a replica of ${c.primaryAddress}.
primary_conninfo = '${conninfo}'
primary_slot_name = '${c.slotName}'
synchronous_standby_names = ''
`;
}
