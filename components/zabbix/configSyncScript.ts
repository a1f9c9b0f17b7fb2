/**
 * Pattern 2's configuration sync script (CONFIG_SYNC_SCRIPT, steps.ts): it exports
 * configuration from the source site's Zabbix API (configuration.export) and imports it into the
 * others (configuration.import). Pure renderer.
 */
import { RENDERED_HEADER, shellQuote } from "../shell";
import { renderApiClient } from "./apiClient";
import { OBJECTS_MARKER_PREFIX } from "./objectsScript";

/** Where the sync script copies from and to, and how it logs in. */
export interface ConfigSyncScriptInput {
    /** JSON-RPC endpoint of the source site (through its load balancer). */
    readonly sourceUrl: string;
    /** JSON-RPC endpoints of the sites that receive the configuration. */
    readonly targetUrls: readonly string[];
    readonly apiUser: string;
    /** Root-only file holding the API password; read by jq, never put on a command line. */
    readonly passwordFile: string;
    /** The stack's CA: every site's UI certificate must verify against it (CA_FILE on a host). */
    readonly caFile: string;
}

/** Import rules for every object kind: create what is missing, update what exists, delete nothing. */
const SYNC_RULES = `{createMissing: true, updateExisting: true}`;

/**
 * Objects per configuration.export / configuration.import call. A stock 6.0 database's 300-odd
 * templates in one export need more than the frontend pool's 128M memory_limit (PHP "Allowed memory
 * size ... exhausted", HTTP 500), and their import more than the site's 5m client_max_body_size.
 */
const BATCH = 20;

/** What items, item prototypes and LLD rules hold but an export may leave out. */
const ITEM_SECRETS = ["password", "privatekey", "ssl_key_file", "ssl_key_password"];

/**
 * What a Zabbix export may leave out though the object holds it, by the source's API method that
 * returns it (with the field that names the object on its host): Debian 13's 7.0.22 exports no
 * password, private key or TLS key of items, LLD rules and web scenarios, nor hosts' IPMI passwords,
 * and its import takes a missing one as empty (wiping the target's; a JMX item with a username and
 * no password is refused outright). The API still returns them to the sync's super admin.
 */
export const EXPORT_OMITTED_SECRETS: readonly { method: string; name: string; secrets: readonly string[] }[] = [
    { method: "item.get", name: "key_", secrets: ITEM_SECRETS },
    { method: "itemprototype.get", name: "key_", secrets: ITEM_SECRETS },
    { method: "discoveryrule.get", name: "key_", secrets: ITEM_SECRETS },
    { method: "httptest.get", name: "name", secrets: ["http_password", "ssl_key_file", "ssl_key_password"] },
    { method: "host.get", name: "host", secrets: ["ipmi_password"] },
];

/** The script lines that print each method's objects with their secrets, one JSON array a line. */
function secretListCalls(): string {
    return EXPORT_OMITTED_SECRETS.map(({ method, name, secrets }) => {
        // A host names itself; everything else is named on the host (or template) it belongs to.
        const params = { output: [name, ...secrets], ...(method === "host.get" ? {} : { selectHosts: ["host"] }) };
        return `  echo '${JSON.stringify(params)}' | call "$SOURCE" ${method}`;
    }).join("\n");
}

/**
 * jq over the lists secretListCalls printed: every non-empty secret by the object it belongs to, as
 * \`[host, key or name]\` (a host's own as \`[host, ""]\`).
 */
export const SECRETS_BY_OBJECT = (() => {
    const fields = [...new Set(EXPORT_OMITTED_SECRETS.flatMap(m => m.secrets))].map(f => JSON.stringify(f));
    const secrets = `with_entries(select((.key | IN(${fields.join(", ")})) and .value != ""))`;
    return `[.[][] | {key: ([.hosts[0].host // .host, .key_ // .name // ""] | tojson), value: ${secrets}} | select(.value != {})] | from_entries`;
})();

/**
 * jq over one export (a JSON string, as configuration.export returns it), with the secrets of
 * SECRETS_BY_OBJECT as $s[0]: each goes back into its object, and nothing else changes.
 */
export const RESTORE_SECRETS = `def put($h; $k): . + ($s[0][[$h, $k] | tojson] // {});
def puteach($f; $h): if has($f) then .[$f] |= map(put($h; .key // .name)) else . end;
def restore($h): puteach("items"; $h) | puteach("httptests"; $h) | puteach("discovery_rules"; $h)
  | if has("discovery_rules") then .discovery_rules |= map(puteach("item_prototypes"; $h)) else . end;
fromjson
| .zabbix_export |= ((if has("templates") then .templates |= map(restore(.template)) else . end)
  | (if has("hosts") then .hosts |= map(put(.host; "") | restore(.host)) else . end))
| tojson`;

/** The sync script: one run copies every batch of objects from the source to each target. */
export function renderConfigSyncScript(c: ConfigSyncScriptInput): string {
    return `#!/bin/sh
# ${RENDERED_HEADER}
# Copies hosts, templates and groups from the source site's Zabbix to the others.
set -eu
umask 077
SOURCE=${shellQuote(c.sourceUrl)}
TARGETS=${shellQuote(c.targetUrls.join(" "))}
API_USER=${shellQuote(c.apiUser)}
PASSWORD_FILE=${shellQuote(c.passwordFile)}
CA_FILE=${shellQuote(c.caFile)}
BATCH=${BATCH}
${renderApiClient()}

# ids URL METHOD FIELD: the FIELD of every object, as a JSON array.
ids() {
  r=$(echo "{\\"output\\": [\\"$3\\"]}" | call "$1" "$2")
  printf '%s' "$r" | jq -c "[.[].$3]"
}

api_version "$SOURCE"
login "$SOURCE"
# What an export leaves out though the objects hold it (7.0: passwords, private keys, TLS keys),
# from the source's own API, to put back into each export before it is imported.
{
${secretListCalls()}
} >"$work/secret-lists"
jq -cs '${SECRETS_BY_OBJECT}' "$work/secret-lists" >"$work/secrets"
groups=$(ids "$SOURCE" hostgroup.get groupid)
templates=$(ids "$SOURCE" template.get templateid)
# Not the hosts the source's objects step made (its agents, monitored by its own proxy groups):
# they are that installation's, and a target has neither those groups nor those agents.
r=$(echo '{"output": ["hostid", "description"]}' | call "$SOURCE" host.get)
hosts=$(printf '%s' "$r" | jq -c --arg m ${shellQuote(OBJECTS_MARKER_PREFIX)} '[.[] | select(.description | startswith($m) | not) | .hostid]')
# Export options, one call a line: the groups, then templates and hosts BATCH at a time, oldest first.
case "$version" in
  6.0.*)
    # 6.0 has one kind of group.
    printf '%s\\n' "$groups" "$templates" "$hosts" | jq -cs --argjson n "$BATCH" 'def batches($k): sort_by(tonumber) | range(0; length; $n) as $i | {($k): .[$i:$i + $n]}; . as [$g, $t, $h] | {groups: $g}, ($t | batches("templates")), ($h | batches("hosts"))' >"$work/batches"
    rules='{groups: {createMissing: true}, templates: ${SYNC_RULES}, hosts: ${SYNC_RULES}, templateLinkage: {createMissing: true}, items: ${SYNC_RULES}, triggers: ${SYNC_RULES}, graphs: ${SYNC_RULES}, discoveryRules: ${SYNC_RULES}, httptests: ${SYNC_RULES}, valueMaps: ${SYNC_RULES}, templateDashboards: ${SYNC_RULES}}'
    ;;
  *)
    # 6.2 and later split host groups from template groups.
    tgroups=$(ids "$SOURCE" templategroup.get groupid)
    printf '%s\\n' "$groups" "$tgroups" "$templates" "$hosts" | jq -cs --argjson n "$BATCH" 'def batches($k): sort_by(tonumber) | range(0; length; $n) as $i | {($k): .[$i:$i + $n]}; . as [$g, $tg, $t, $h] | {host_groups: $g, template_groups: $tg}, ($t | batches("templates")), ($h | batches("hosts"))' >"$work/batches"
    rules='{host_groups: ${SYNC_RULES}, template_groups: ${SYNC_RULES}, templates: ${SYNC_RULES}, hosts: ${SYNC_RULES}, templateLinkage: {createMissing: true}, items: ${SYNC_RULES}, triggers: ${SYNC_RULES}, graphs: ${SYNC_RULES}, discoveryRules: ${SYNC_RULES}, httptests: ${SYNC_RULES}, valueMaps: ${SYNC_RULES}, templateDashboards: ${SYNC_RULES}}'
    ;;
esac
all=
n=0
while IFS= read -r options; do
  n=$((n + 1))
  printf '%s' "$options" | jq -c '{format: "json", options: .}' | call "$SOURCE" configuration.export >"$work/exported.$n"
  jq -c --slurpfile s "$work/secrets" '${RESTORE_SECRETS}' "$work/exported.$n" >"$work/export.$n"
  all="$all $n"
done <"$work/batches"
logout "$SOURCE"

for target in $TARGETS; do
  login "$target"
  # A batch can fail for want of another one (a template it links, a trigger it depends on, both
  # imported later): retry the failed ones while a round imports something, else report them.
  pending=$all
  while [ -n "$pending" ]; do
    failed=
    for i in $pending; do
      jq -c "{format: \\"json\\", source: ., rules: $rules}" "$work/export.$i" | call "$target" configuration.import >/dev/null 2>"$work/error.$i" || failed="$failed $i"
    done
    if [ "$failed" = "$pending" ]; then
      for i in $failed; do cat "$work/error.$i" >&2; done
      exit 1
    fi
    pending=$failed
  done
  logout "$target"
  echo "synchronised configuration from $SOURCE to $target"
done
`;
}
