/**
 * The Zabbix database as its clients reach it (through a site's load balancer, or a managed
 * endpoint), and the step that loads the Zabbix schema once and keeps the Super Admin's password
 * the stack's and the guest user disabled. Pure: input in, script text out.
 */
import { shellQuote } from "../shell";
import { ZabbixDbLogin } from "./roles";
import { DbClientTls, dbClientExport } from "./tls";

/** How a host outside the cluster reaches the Zabbix database: through its site's load balancer. */
export interface DbClientInput extends ZabbixDbLogin {
    /** The load balancer's address and DB port, which lead to the read-write primary. */
    readonly dbHost: string;
    readonly dbPort: number;
    /** Shell variable holding the zabbix role's password (read from stdin). */
    readonly passwordVariable: string;
    /** How the session is secured: verify-full against the stack's CA (self-run), or the endpoint's sslmode. */
    readonly dbTls: DbClientTls;
}

/** A `zha_zabbix_sql` function that runs psql as the zabbix role through the load balancer. */
export function zabbixSqlClient(c: DbClientInput): string {
    return `PGPASSWORD="$${c.passwordVariable}"
export PGPASSWORD
${dbClientExport(c.dbTls)}
zha_zabbix_sql() { psql -X -q -t -A -w -v ON_ERROR_STOP=1 -h ${c.dbHost} -p ${c.dbPort} -U ${c.dbUser} -d ${c.dbName} "$@"; }`;
}

export interface SchemaStepInput extends DbClientInput {
    /** Gzip-compressed SQL files in load order (7.0: server.sql.gz; Debian 6.0: schema, images, data). */
    readonly schemaFiles: readonly string[];
    /**
     * Shell variable holding the bcrypt hash of the Super Admin's password (read from stdin): what
     * Zabbix 6.0 and 7.0 keep in users.passwd and check with PHP's password_verify.
     */
    readonly superAdminHashVariable: string;
}

/** The user the schema ships as Super Admin, with the password `zabbix`. */
export const SUPER_ADMIN_USER = "Admin";
/** The user the frontend logs anonymous visitors in as, and the shipped group whose members cannot log in. */
export const GUEST_USER = "guest";
export const DISABLED_GROUP = "Disabled";

/**
 * A `zha_super_admin_sql` function that prints the SQL setting Admin's password hash (unless it is
 * already that hash) and keeping guest in the Disabled group; each change says so in a NOTICE.
 * The hash is held to bcrypt's own alphabet first, so it can sit in a SQL literal; it travels in the
 * pipe to psql only (printf is a builtin: no process's argument list holds it). The hash, not a
 * password check, decides: the provider computes it once and keeps it, so an unchanged password
 * gives the same hash on every run, and Zabbix never rewrites a bcrypt hash on login.
 */
function superAdminSql(hashVariable: string): string {
    const bad = `{ echo "${hashVariable} is not a bcrypt hash" >&2; exit 1; }`;
    return `case "$${hashVariable}" in
  \\$2[aby]\\$[0-9][0-9]\\$*) ;;
  *) ${bad} ;;
esac
case "$${hashVariable}" in *[!./A-Za-z0-9$]*) ${bad} ;; esac
[ "\${#${hashVariable}}" -eq 60 ] || ${bad}
zha_super_admin_sql() {
  printf '%s\\n' "DO \\$zha\\$ BEGIN" \\
    "UPDATE users SET passwd = '$${hashVariable}' WHERE username = '${SUPER_ADMIN_USER}' AND passwd <> '$${hashVariable}';" \\
    "IF FOUND THEN" \\
    "  DELETE FROM sessions WHERE userid IN (SELECT userid FROM users WHERE username = '${SUPER_ADMIN_USER}');" \\
    "  RAISE NOTICE 'set the ${SUPER_ADMIN_USER} password to the stack''s';" \\
    "END IF; END \\$zha\\$;"
  cat <<'ZHA_SQL'
DO $zha$
DECLARE
  zha_group bigint := (SELECT usrgrpid FROM usrgrp WHERE name = '${DISABLED_GROUP}');
  zha_user bigint := (SELECT userid FROM users WHERE username = '${GUEST_USER}');
  zha_id bigint;
BEGIN
  IF zha_group IS NULL OR zha_user IS NULL
     OR EXISTS (SELECT 1 FROM users_groups WHERE usrgrpid = zha_group AND userid = zha_user) THEN
    RETURN;
  END IF;
  -- The frontend hands out ids past ids.nextid (the last one it gave) once that row exists: move it past this one.
  zha_id := 1 + greatest(
    (SELECT nextid FROM ids WHERE table_name = 'users_groups' AND field_name = 'id' FOR UPDATE),
    (SELECT coalesce(max(id), 0) FROM users_groups));
  UPDATE ids SET nextid = zha_id WHERE table_name = 'users_groups' AND field_name = 'id';
  INSERT INTO users_groups (id, usrgrpid, userid) VALUES (zha_id, zha_group, zha_user);
  RAISE NOTICE 'disabled the ${GUEST_USER} user (group ${DISABLED_GROUP})';
END $zha$;
ZHA_SQL
}`;
}

/**
 * Loads the Zabbix schema once, in one transaction, onto the primary, with the stack's Super Admin
 * password and guest disabled in that same transaction: the shipped `Admin`/`zabbix` never works,
 * not for a moment. On a loaded schema it sets them again where they differ (an install from before,
 * a password rotated). It runs on a Zabbix server host (which has the schema files and psql) as the
 * zabbix role, so that role owns every table.
 */
export function schemaStep(s: SchemaStepInput): string {
    const files = s.schemaFiles.map(shellQuote).join(" ");
    return [
        zabbixSqlClient(s),
        superAdminSql(s.superAdminHashVariable),
        `zha_retry 30 zha_zabbix_sql -c 'select 1' >/dev/null
if [ "$(zha_zabbix_sql -c "select to_regclass('public.dbversion') is not null")" = t ]; then
  echo "Zabbix schema already loaded"
  zha_super_admin_sql | zha_zabbix_sql --single-transaction -f - >/dev/null
else
  # The files as positional parameters: a for loop over a single quoted name reads as a mistake to shellcheck.
  set -- ${files}
  # sh has no pipefail: prove every file reads whole before piping them, so a broken one cannot load half.
  for zha_f in "$@"; do gzip -t "$zha_f" || { echo "missing or damaged schema file $zha_f: is the Zabbix server package installed?" >&2; exit 1; }; done
  echo "loading the Zabbix schema"
  { for zha_f in "$@"; do zcat "$zha_f"; done; zha_super_admin_sql; } | zha_zabbix_sql --single-transaction -f - >/dev/null
  # Planner statistics now, not when autovacuum gets round to it: the API's template linking crawls without them.
  zha_zabbix_sql -c 'ANALYZE' >/dev/null
fi`,
    ].join("\n");
}
