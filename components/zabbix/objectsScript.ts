/**
 * The Zabbix objects step's script (ZabbixObjects): through the Zabbix API, it makes the proxy
 * groups, the proxies with their PSK, the monitored hosts' group and each agent's host what the stack
 * says, and deletes what the stack made and no longer has. Pure renderer: input in, sh body out.
 *
 * Safe to run again: it reads every object first and changes only what differs, printing one
 * `updated <object>` line per change, so a second run prints none. The API never returns a PSK (nor
 * its identity), so a root-only record on the host keeps the SHA-256 of each one it last set, with
 * the object's id: a key is sent only when it (or the object) changed.
 *
 * What the stack made carries the marker in its description (objectsMarker); it never changes nor
 * deletes an object without it, and refuses to take over one of the same name. The monitored hosts'
 * group is made when missing and never deleted (a host group has no description to mark, and may
 * hold hosts of others). The data path check's template (components/proxy/dataPathCheck.ts) is made
 * marked and kept: every agent host is linked to it (keeping the templates others linked), and its
 * item follows the stack's interval; it is not deleted with the last host, as history hangs on it.
 */
import { STATE_DIR } from "../platform";
import type { CheckTemplateObject } from "../proxy/dataPathCheck";
import { shellQuote } from "../shell";
import { renderApiClient } from "./apiClient";

/** TLS settings of the API: 2 is PSK in tls_connect and tls_accept. */
const TLS_PSK = "2";
/** A 7.0 host's monitored_by: by the server(s), or by a proxy group. */
const MONITORED_BY = { server: "0", proxyGroup: "2" } as const;
/** A 7.0 proxy's operating_mode: active. */
const ACTIVE_PROXY = "0";

/** The shell variables the step reads its secrets into (from stdin, in this order). */
export const OBJECTS_SECRETS = {
    /** The Super Admin's password. */
    password: "ZHA_ADMIN_PASSWORD",
    /** Every PSK, one JSON object on one line: objectKey(kind, name) to the key in hex. */
    psks: "ZHA_OBJECT_PSKS",
} as const;

/** Where the step records the SHA-256 of the PSKs it set in one installation (root only). */
export function pskRecordFile(installation: string): string {
    return `${STATE_DIR}/zabbix-objects-${installation}.json`;
}

/** How the description of every object an objects step made starts, whatever the installation. */
export const OBJECTS_MARKER_PREFIX = "Made by zabbix-ha for installation ";

/** The description every object the stack makes carries; only those it changes or deletes. */
export function objectsMarker(installation: string): string {
    return `${OBJECTS_MARKER_PREFIX}${installation}: pulumi up changes and deletes it.`;
}

/** How a proxy's or a host's PSK is named in the PSK secret and the record. */
export function objectKey(kind: "proxy" | "host", name: string): string {
    return `${kind}/${name}`;
}

/** One proxy group as Zabbix keeps it. */
export interface ProxyGroupObject {
    /** The group's name in Zabbix. */
    readonly name: string;
    /** failover_delay: how long a proxy may be silent before its hosts move. */
    readonly failoverDelaySeconds: number;
    /** min_online: how many proxies the group needs to count as online. */
    readonly minOnline: number;
}

/** One proxy: its name is the Hostname of its zabbix_proxy.conf. */
export interface ProxyObject {
    /** Its Hostname. */
    readonly name: string;
    /** Its proxy group's name. */
    readonly group: string;
    /** Where its group's agents reach it (local_address, local_port). */
    readonly address: string;
    /** Its ListenPort. */
    readonly port: number;
    /** Its TLSPSKIdentity. */
    readonly pskIdentity: string;
}

/** One monitored host: its name is the Hostname of its zabbix_agent2.conf. */
export interface AgentHostObject {
    /** Its Hostname. */
    readonly name: string;
    /** The proxy group that monitors it; absent when the servers do. */
    readonly group?: string;
    /** Its agent's TLSPSKIdentity. */
    readonly pskIdentity: string;
}

/** What the objects step makes in one installation's Zabbix. */
export interface ZabbixObjectsScriptInput {
    /** The installation's JSON-RPC URL (https://; its certificate verified against caFile). */
    readonly apiUrl: string;
    /** Who logs in: the Super Admin, whose password the step reads from stdin. */
    readonly apiUser: string;
    /** The stack's CA file on the host. */
    readonly caFile: string;
    /** The installation's name: what its marker is named after. */
    readonly installation: string;
    /** Where the step records what PSKs it set (pskRecordFile(installation) on a host). */
    readonly recordFile: string;
    /** The host group every agent host is in. */
    readonly hostGroup: string;
    /** The installation's proxy groups (none on 6.0). */
    readonly proxyGroups: readonly ProxyGroupObject[];
    /** Its proxies, each in one of those groups. */
    readonly proxies: readonly ProxyObject[];
    /** Its monitored hosts (agent 2, active checks only: no interface). */
    readonly hosts: readonly AgentHostObject[];
    /** The template linked to every monitored host (components/proxy/dataPathCheck.ts). */
    readonly template: CheckTemplateObject;
}

/** What the script compares objects with: the API's own values, as strings. */
function desiredState(c: ZabbixObjectsScriptInput): string {
    return JSON.stringify({
        marker: objectsMarker(c.installation),
        hostGroup: c.hostGroup,
        template: c.template,
        proxyGroups: c.proxyGroups.map(g => ({
            name: g.name,
            failover_delay: `${g.failoverDelaySeconds}s`,
            min_online: String(g.minOnline),
        })),
        proxies: c.proxies.map(p => ({
            key: objectKey("proxy", p.name),
            group: p.group,
            want: {
                name: p.name,
                operating_mode: ACTIVE_PROXY,
                local_address: p.address,
                local_port: String(p.port),
                tls_accept: TLS_PSK,
            },
            identity: p.pskIdentity,
        })),
        hosts: c.hosts.map(h => ({
            key: objectKey("host", h.name),
            group: h.group ?? null,
            want: { host: h.name, tls_connect: TLS_PSK, tls_accept: TLS_PSK },
            identity: h.pskIdentity,
        })),
    });
}

/**
 * jq definitions every plan uses, over `$d` (the desired state), `$psk`, `$hash` and `$rec`:
 * - `changes($kind; $id; $c; $o)`: the change of one desired object `$o` (with `.want`), given the
 *   current one `$c` (null when missing), as {method, params, what}; its PSK goes with a create, and
 *   with an update when the record says it (or the object's id) changed;
 * - `deletions($kind; $id; $name; $plural)`: the marked objects the stack no longer has, in one delete.
 */
const PLAN_DEFS = `def ours: .description == $d.marker;
def refuse($kind; $name): error("\\($kind) \\($name) exists, and zabbix-ha did not make it (its description is not \\"\\($d.marker)\\"): rename it in the stack, or give it that description to hand it over");
def withpsk($o): {tls_psk_identity: $o.identity, tls_psk: $psk[$o.key]};
def changes($kind; $id; $c; $o):
  ($o.want + {description: $d.marker}) as $want
  | if $c == null then {method: "\\($kind).create", params: ($want + withpsk($o)), what: "\\($kind) \\($o.want.name // $o.want.host) (created)"}
    elif ($c | ours | not) then refuse($kind; $o.want.name // $o.want.host)
    else ([$want | keys[] | select($c[.] != $want[.])]) as $diff
      | ($rec[$o.key] != {id: $c[$id], sha256: $hash[$o.key]}) as $rekey
      | if $diff == [] and ($rekey | not) then empty
        else {method: "\\($kind).update",
              params: (($want | with_entries(select(.key | IN($diff[])))) + (if $rekey then withpsk($o) else {} end) + {($id): $c[$id]}),
              what: "\\($kind) \\($o.want.name // $o.want.host) (\\(($diff + (if $rekey then ["tls_psk"] else [] end)) | join(", ")))"}
        end
    end;
def deletions($kind; $id; $name; $wanted):
  [.[] | select(ours and (.[$name] | IN($wanted[]) | not))]
  | if length == 0 then empty
    else {method: "\\($kind).delete", params: map(.[$id]), what: "\\($kind) \\(map(.[$name]) | join(", ")) (deleted: no longer in the stack)"} end;`;

/** The proxy groups to make or change, over proxygroup.get. */
const GROUP_PLAN = `(map({key: .name, value: .}) | from_entries) as $cur
| $d.proxyGroups[] | . as $g
| $cur[$g.name] as $c
| if $c == null then {method: "proxygroup.create", params: ($g + {description: $d.marker}), what: "proxy group \\($g.name) (created)"}
  elif ($c | ours | not) then refuse("proxy group"; $g.name)
  else [("failover_delay", "min_online") | select($c[.] != $g[.])] as $diff
    | if $diff == [] then empty
      else {method: "proxygroup.update", params: ($g | with_entries(select(.key | IN($diff[]))) + {proxy_groupid: $c.proxy_groupid}), what: "proxy group \\($g.name) (\\($diff | join(", ")))"} end
  end`;

/** The proxies to make, change or delete, over proxy.get, with $groups the proxy groups by name. */
const PROXY_PLAN = `(map({key: .name, value: .}) | from_entries) as $cur
| ($groups[0] | map({key: .name, value: .proxy_groupid}) | from_entries) as $gid
| ($d.proxies[] | .want += {proxy_groupid: $gid[.group]} | changes("proxy"; "proxyid"; $cur[.want.name]; .)),
  deletions("proxy"; "proxyid"; "name"; [$d.proxies[].want.name])`;

/**
 * The hosts to make, change or delete, over host.get, with $groups the proxy groups by name and
 * $hg the monitored hosts' group id, $tpl the check template's id. A host keeps the groups and
 * templates others gave it; the stack's are added.
 */
const HOST_PLAN = `(map({key: .host, value: .}) | from_entries) as $cur
| ($groups[0] | map({key: .name, value: .proxy_groupid}) | from_entries) as $gid
| ($d.hosts[]
   | $cur[.want.host] as $c
   | ($c // {} | (.hostgroups // .groups // []) | map({groupid})) as $in
   | .want += (if $series == "6.0" then {proxy_hostid: "0"}
               elif .group == null then {monitored_by: "${MONITORED_BY.server}"}
               else {monitored_by: "${MONITORED_BY.proxyGroup}", proxy_groupid: $gid[.group]} end)
   | ($c // {} | .parentTemplates // [] | map({templateid})) as $linked
   | if $c == null then .want += {groups: [{groupid: $hg}]}
     elif ($in | any(.groupid == $hg)) then .
     else .want += {groups: ($in + [{groupid: $hg}])} end
   | if $c != null and ($linked | any(.templateid == $tpl)) then .
     else .want += {templates: ($linked + [{templateid: $tpl}])} end
   | changes("host"; "hostid"; $c; .)),
  deletions("host"; "hostid"; "host"; [$d.hosts[].want.host])`;

/** The marked proxy groups the stack no longer has, once no proxy of theirs is left. */
const GROUP_DELETIONS = `deletions("proxygroup"; "proxy_groupid"; "name"; [$d.proxyGroups[].name])`;

/** The record of the PSKs now set: each desired object's key to its id and its PSK's hash. */
const RECORD = `($proxies[0] | map({key: "proxy/\\(.name)", value: .proxyid}) | from_entries) as $pid
| ($hosts[0] | map({key: "host/\\(.host)", value: .hostid}) | from_entries) as $hid
| [($d.proxies[], $d.hosts[]) | .key as $k | {key: $k, value: {id: ($pid[$k] // $hid[$k]), sha256: $hash[$k]}}]
| from_entries`;

/** The objects step: logs in as the Super Admin (password and PSKs from stdin) and applies every plan. */
export function renderZabbixObjectsScript(c: ZabbixObjectsScriptInput): string {
    if (!/^https:\/\//i.test(c.apiUrl)) {
        throw new Error(`the objects step logs in with the Super Admin's password: ${c.apiUrl} is not an https:// URL`);
    }
    return `# The Zabbix objects of installation ${c.installation}, through its API.
API_URL=${shellQuote(c.apiUrl)}
API_USER=${shellQuote(c.apiUser)}
CA_FILE=${shellQuote(c.caFile)}
RECORD=${shellQuote(c.recordFile)}
HOST_GROUP=${shellQuote(c.hostGroup)}
DESIRED=${shellQuote(desiredState(c))}
${renderApiClient()}

PASSWORD_FILE="$work/password"
printf '%s\\n' "$${OBJECTS_SECRETS.password}" >"$PASSWORD_FILE"
printf '%s\\n' "$${OBJECTS_SECRETS.psks}" >"$work/psks"
printf '%s\\n' "$DESIRED" >"$work/desired"
if [ -f "$RECORD" ]; then cp "$RECORD" "$work/record"; else echo '{}' >"$work/record"; fi
# The SHA-256 of each identity and key, to compare with the record (the API returns neither).
jq -r --slurpfile d "$work/desired" '($d[0] | [(.proxies[], .hosts[]) | {key, value: .identity}] | from_entries) as $ids | to_entries[] | "\\(.key) \\($ids[.key]) \\(.value)"' "$work/psks" >"$work/keys"
while read -r key identity psk; do
  printf '%s %s\\n' "$key" "$(printf '%s:%s' "$identity" "$psk" | sha256sum | cut -c1-64)"
done <"$work/keys" >"$work/hash-lines"
rm -f "$work/keys"
jq -Rn '[inputs | split(" ") | {key: .[0], value: .[1]}] | from_entries' "$work/hash-lines" >"$work/hashes"

# plan NAME JQ [ARGS...]: the changes JQ finds in the current objects ($work/current), one a line.
# shellcheck disable=SC2016 # jq programs: their $ are jq's variables
PLAN_DEFS=${shellQuote(`$dd[0] as $d | $pp[0] as $psk | $hh[0] as $hash | $rr[0] as $rec | ${PLAN_DEFS}`)}
plan() {
  name=$1 program=$2
  shift 2
  jq -c --slurpfile dd "$work/desired" --slurpfile pp "$work/psks" --slurpfile hh "$work/hashes" --slurpfile rr "$work/record" --arg series "$series" "$@" \\
    "$PLAN_DEFS
$program" <"$work/current" >"$work/plan.$name"
}
# apply NAME: makes each change of the plan and says what it changed.
apply() {
  while IFS= read -r change; do
    method=$(printf '%s' "$change" | jq -r .method)
    printf '%s' "$change" | jq -c .params | call "$API_URL" "$method" >/dev/null
    echo "updated $(printf '%s' "$change" | jq -r .what)"
  done <"$work/plan.$1"
}

# Just after the frontends start, the entry point answers 503 until its balancer's health checks pass.
zha_retry 60 api_version "$API_URL" 2>"$work/api-wait" || { cat "$work/api-wait" >&2; exit 1; }
case "$version" in
  6.*) series=6.0 ;;
  *) series=7.0 ;;
esac
if [ "$series" = 6.0 ] && [ "$(jq '.proxies | length' "$work/desired")" != 0 ]; then
  echo "Zabbix $version has no proxy groups: the stack's proxies need 7.0" >&2
  exit 1
fi
login "$API_URL"
echo '[]' >"$work/groups"
# shellcheck disable=SC2016 # jq programs: their $ are jq's variables
if [ "$series" != 6.0 ]; then
  echo '{"output": ["proxy_groupid", "name", "failover_delay", "min_online", "description"]}' | call "$API_URL" proxygroup.get >"$work/current"
  plan groups ${shellQuote(GROUP_PLAN)}
  apply groups
  echo '{"output": ["proxy_groupid", "name", "failover_delay", "min_online", "description"]}' | call "$API_URL" proxygroup.get >"$work/groups"
  echo '{"output": ["proxyid", "name", "operating_mode", "proxy_groupid", "local_address", "local_port", "tls_accept", "description"]}' | call "$API_URL" proxy.get >"$work/current"
  plan proxies ${shellQuote(PROXY_PLAN)} --slurpfile groups "$work/groups"
  apply proxies
fi
jq -n --arg n "$HOST_GROUP" '{output: ["groupid"], filter: {name: [$n]}}' | call "$API_URL" hostgroup.get >"$work/current"
hg=$(jq -r '.[0].groupid // ""' "$work/current")
if [ -z "$hg" ]; then
  jq -n --arg n "$HOST_GROUP" '{name: $n}' | call "$API_URL" hostgroup.create >"$work/current"
  hg=$(jq -r '.groupids[0]' "$work/current")
  echo "updated host group $HOST_GROUP (created)"
fi
# The data path check's template (template groups are host groups on 6.0), then its one item.
tg_api=templategroup
[ "$series" = 6.0 ] && tg_api=hostgroup
jq -c '{output: ["groupid"], filter: {name: [.template.group]}}' "$work/desired" | call "$API_URL" "$tg_api.get" >"$work/current"
tg=$(jq -r '.[0].groupid // ""' "$work/current")
if [ -z "$tg" ]; then
  jq -c '{name: .template.group}' "$work/desired" | call "$API_URL" "$tg_api.create" >"$work/current"
  tg=$(jq -r '.groupids[0]' "$work/current")
  echo "updated template group $(jq -r .template.group "$work/desired") (created)"
fi
jq -c '{output: ["templateid", "host", "description"], filter: {host: [.template.name]}}' "$work/desired" | call "$API_URL" template.get >"$work/current"
tpl=$(jq -r '.[0].templateid // ""' "$work/current")
template_name=$(jq -r .template.name "$work/desired")
if [ -z "$tpl" ]; then
  jq -c --arg g "$tg" '{host: .template.name, description: .marker, groups: [{groupid: $g}]}' "$work/desired" | call "$API_URL" template.create >"$work/current"
  tpl=$(jq -r '.templateids[0]' "$work/current")
  echo "updated template $template_name (created)"
elif [ "$(jq -r --slurpfile dd "$work/desired" '.[0].description == $dd[0].marker' "$work/current")" != true ]; then
  echo "template $template_name exists, and zabbix-ha did not make it: rename it, or give it the description \\"$(jq -r .marker "$work/desired")\\" to hand it over" >&2
  exit 1
fi
jq -c --arg t "$tpl" '{output: ((.template.item | keys) + ["itemid"]), hostids: [$t], filter: {key_: [.template.item.key_]}}' "$work/desired" | call "$API_URL" item.get >"$work/current"
# shellcheck disable=SC2016 # jq programs: their $ are jq's variables
jq -c --slurpfile dd "$work/desired" --arg t "$tpl" '$dd[0].template.item as $want | .[0] as $c
  | if $c == null then {method: "item.create", params: ($want + {hostid: $t}), what: "item \\($want.key_) of template \\($dd[0].template.name) (created)"}
    else [$want | keys[] | select($c[.] != $want[.])] as $diff
      | if $diff == [] then empty
        else {method: "item.update", params: ($want | with_entries(select(.key | IN($diff[]))) + {itemid: $c.itemid}), what: "item \\($want.key_) of template \\($dd[0].template.name) (\\($diff | join(", ")))"} end
    end' "$work/current" >"$work/plan.template"
apply template
if [ "$series" = 6.0 ]; then
  hosts_get='{"output": ["hostid", "host", "proxy_hostid", "tls_connect", "tls_accept", "description"], "selectGroups": ["groupid"], "selectParentTemplates": ["templateid"]}'
else
  hosts_get='{"output": ["hostid", "host", "monitored_by", "proxy_groupid", "tls_connect", "tls_accept", "description"], "selectHostGroups": ["groupid"], "selectParentTemplates": ["templateid"]}'
fi
echo "$hosts_get" | call "$API_URL" host.get >"$work/current"
# shellcheck disable=SC2016 # jq programs: their $ are jq's variables
plan hosts ${shellQuote(HOST_PLAN)} --slurpfile groups "$work/groups" --arg hg "$hg" --arg tpl "$tpl"
apply hosts
# shellcheck disable=SC2016 # jq programs: their $ are jq's variables
if [ "$series" != 6.0 ]; then
  cp "$work/groups" "$work/current"
  plan group-deletions ${shellQuote(GROUP_DELETIONS)}
  apply group-deletions
  echo '{"output": ["proxyid", "name"]}' | call "$API_URL" proxy.get >"$work/proxies"
else
  echo '[]' >"$work/proxies"
fi
echo '{"output": ["hostid", "host"]}' | call "$API_URL" host.get >"$work/hosts"
logout "$API_URL"
# What was set, so that the next run sends a key only when it changed.
install -d -m 0755 "$(dirname "$RECORD")"
# shellcheck disable=SC2016 # jq programs: their $ are jq's variables
jq -S -n --slurpfile dd "$work/desired" --slurpfile hh "$work/hashes" --slurpfile proxies "$work/proxies" --slurpfile hosts "$work/hosts" \\
  ${shellQuote(`$dd[0] as $d | $hh[0] as $hash | ${RECORD}`)} >"$work/new-record"
zha_put_file "$RECORD" 0600 root:root <"$work/new-record"
`;
}
