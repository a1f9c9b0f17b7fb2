/**
 * The Zabbix database as its clients reach it (through a site's load balancer, or a managed
 * endpoint), and the step that loads the Zabbix schema once. Pure: input in, script text out.
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
}

/**
 * Loads the Zabbix schema once, in one transaction, onto the primary. It runs on a Zabbix server
 * host (which has the schema files and psql) as the zabbix role, so that role owns every table.
 */
export function schemaStep(s: SchemaStepInput): string {
    const files = s.schemaFiles.map(shellQuote).join(" ");
    return [
        zabbixSqlClient(s),
        `zha_retry 30 zha_zabbix_sql -c 'select 1' >/dev/null
if [ "$(zha_zabbix_sql -c "select to_regclass('public.dbversion') is not null")" = t ]; then
  echo "Zabbix schema already loaded"
else
  # The files as positional parameters: a for loop over a single quoted name reads as a mistake to shellcheck.
  set -- ${files}
  # sh has no pipefail: prove every file reads whole before piping them, so a broken one cannot load half.
  for zha_f in "$@"; do gzip -t "$zha_f" || { echo "missing or damaged schema file $zha_f: is the Zabbix server package installed?" >&2; exit 1; }; done
  echo "loading the Zabbix schema"
  for zha_f in "$@"; do zcat "$zha_f"; done | zha_zabbix_sql --single-transaction -f - >/dev/null
  # Planner statistics now, not when autovacuum gets round to it: the API's template linking crawls without them.
  zha_zabbix_sql -c 'ANALYZE' >/dev/null
fi`,
    ].join("\n");
}
