/**
 * Pure renderers for pattern 2's configuration sync: a script that exports configuration from the
 * source site's Zabbix API (configuration.export) and imports it into the others
 * (configuration.import), and the systemd units that run it on a timer.
 */

const HEADER = "Rendered by zabbix-ha; `pulumi up` overwrites local edits.";

export interface ConfigSyncScriptInput {
    /** JSON-RPC endpoint of the source site (through its load balancer). */
    readonly sourceUrl: string;
    /** JSON-RPC endpoints of the sites that receive the configuration. */
    readonly targetUrls: readonly string[];
    readonly apiUser: string;
    /** Root-only file holding the API password; read by jq, never put on a command line. */
    readonly passwordFile: string;
}

/** Import rules for every object kind: create what is missing, update what exists, delete nothing. */
const SYNC_RULES = `{createMissing: true, updateExisting: true}`;

export function renderConfigSyncScript(c: ConfigSyncScriptInput): string {
    return `#!/bin/sh
# ${HEADER}
# Copies hosts, templates and groups from the source site's Zabbix to the others.
set -eu
umask 077
SOURCE='${c.sourceUrl}'
TARGETS='${c.targetUrls.join(" ")}'
API_USER='${c.apiUser}'
PASSWORD_FILE='${c.passwordFile}'

# call URL AUTH METHOD PARAMS: prints the result; the request travels on stdin, not the command line.
call() {
  body=$(jq -cn --arg m "$3" --arg a "$2" --argjson p "$4" '{jsonrpc: "2.0", method: $m, params: $p, id: 1} + (if $a == "" then {} else {auth: $a} end)')
  out=$(printf '%s' "$body" | curl -fsS -m 120 -H 'Content-Type: application/json-rpc' --data-binary @- "$1")
  if [ "$(printf '%s' "$out" | jq 'has("error")')" = true ]; then
    echo "$1 $3: $(printf '%s' "$out" | jq -c .error)" >&2
    return 1
  fi
  printf '%s' "$out" | jq -c .result
}

login() {
  call "$1" "" user.login "$(jq -cn --arg u "$API_USER" --rawfile p "$PASSWORD_FILE" '{username: $u, password: ($p | rtrimstr("\\n"))}')" | jq -r .
}

ids() {
  call "$1" "$2" "$3" "{\\"output\\": [\\"$4\\"]}" | jq -c "[.[].$4]"
}

version=$(call "$SOURCE" "" apiinfo.version '[]' | jq -r .)
auth=$(login "$SOURCE")
groups=$(ids "$SOURCE" "$auth" hostgroup.get groupid)
templates=$(ids "$SOURCE" "$auth" template.get templateid)
hosts=$(ids "$SOURCE" "$auth" host.get hostid)
case "$version" in
  6.0.*)
    # 6.0 has one kind of group.
    options=$(jq -cn --argjson g "$groups" --argjson t "$templates" --argjson h "$hosts" '{groups: $g, templates: $t, hosts: $h}')
    rules='{groups: {createMissing: true}, templates: ${SYNC_RULES}, hosts: ${SYNC_RULES}, templateLinkage: {createMissing: true}, items: ${SYNC_RULES}, triggers: ${SYNC_RULES}, graphs: ${SYNC_RULES}, discoveryRules: ${SYNC_RULES}, httptests: ${SYNC_RULES}, valueMaps: ${SYNC_RULES}, templateDashboards: ${SYNC_RULES}}'
    ;;
  *)
    # 6.2 and later split host groups from template groups.
    tgroups=$(ids "$SOURCE" "$auth" templategroup.get groupid)
    options=$(jq -cn --argjson g "$groups" --argjson tg "$tgroups" --argjson t "$templates" --argjson h "$hosts" '{host_groups: $g, template_groups: $tg, templates: $t, hosts: $h}')
    rules='{host_groups: ${SYNC_RULES}, template_groups: ${SYNC_RULES}, templates: ${SYNC_RULES}, hosts: ${SYNC_RULES}, templateLinkage: {createMissing: true}, items: ${SYNC_RULES}, triggers: ${SYNC_RULES}, graphs: ${SYNC_RULES}, discoveryRules: ${SYNC_RULES}, httptests: ${SYNC_RULES}, valueMaps: ${SYNC_RULES}, templateDashboards: ${SYNC_RULES}}'
    ;;
esac
exported=$(call "$SOURCE" "$auth" configuration.export "$(jq -cn --argjson o "$options" '{format: "json", options: $o}')" | jq -r .)
call "$SOURCE" "$auth" user.logout '[]' >/dev/null

for target in $TARGETS; do
  tauth=$(login "$target")
  call "$target" "$tauth" configuration.import "$(jq -cn --arg s "$exported" "{format: \\"json\\", source: \\$s, rules: $rules}")" >/dev/null
  call "$target" "$tauth" user.logout '[]' >/dev/null
  echo "synchronised configuration from $SOURCE to $target"
done
`;
}

export interface ConfigSyncUnitsInput {
    readonly scriptPath: string;
    readonly intervalMinutes: number;
}

export function renderConfigSyncService(c: ConfigSyncUnitsInput): string {
    return `# ${HEADER}
[Unit]
Description=Copy Zabbix configuration to the other sites (zabbix-ha pattern 2)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=${c.scriptPath}
`;
}

export function renderConfigSyncTimer(c: ConfigSyncUnitsInput): string {
    return `# ${HEADER}
[Unit]
Description=Copy Zabbix configuration to the other sites every ${c.intervalMinutes} min

[Timer]
OnBootSec=5min
OnUnitActiveSec=${c.intervalMinutes}min

[Install]
WantedBy=timers.target
`;
}
