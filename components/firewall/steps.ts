/**
 * The host firewall's step scripts (POSIX sh bodies for Host.step). A new ruleset is checked by the
 * kernel (`nft -c`) before it replaces the file, so a ruleset that fails to load never replaces one
 * that works; the table is loaded again when the file changed or it is missing (a flush ruleset).
 */
import { STATE_DIR, SYSTEMD_UNIT_DIR } from "../platform";
import { putFile } from "../shell";
import { FIREWALL_FAMILY, FIREWALL_TABLE } from "./ruleset";
import { FIREWALL_FILE, FIREWALL_UNIT, NFT } from "./unit";

/** Where the rendered ruleset waits until the kernel accepted it. */
export const FIREWALL_CANDIDATE = `${STATE_DIR}/firewall.nft.candidate`;

export interface FirewallStepInput {
    readonly ruleset: string;
    readonly unitText: string;
    /** Paths (tests point them elsewhere). */
    readonly file?: string;
    readonly candidate?: string;
    readonly unitDir?: string;
}

const loaded = `${NFT} list table ${FIREWALL_FAMILY} ${FIREWALL_TABLE} >/dev/null 2>&1`;

/** A table with no verdict of its own: its one `ct` rule makes the kernel track this namespace's flows. */
export const TRACKING_TABLE = "zabbix_ha_tracking";

/** How long flows are tracked before the first drop table loads: any packet each way in that time marks a flow established. */
export const TRACKING_SECONDS = 5;

/**
 * The kernel tracks connections in a namespace only once a rule there needs it. A connection opened
 * before the first load is picked up mid-stream, and its first packet counts as new until one goes
 * the other way: a client waiting for its server's answer (a schema load, a long query) never sends
 * one, so the answer is dropped for good (seen on the lab: the schema load hung 10 minutes). Before
 * the first load, a tracking table accepts everything while the flows in progress exchange a
 * packet each way; the drop table then finds them established. A flow idle for the whole time with
 * its answer still to come is not covered: turn the firewall on in a quiet moment.
 */
export function startTracking(nft = NFT): string {
    return `if ! ${nft} list table ${FIREWALL_FAMILY} ${TRACKING_TABLE} >/dev/null 2>&1; then
  printf '%s\n' 'table ${FIREWALL_FAMILY} ${TRACKING_TABLE} { chain input { type filter hook input priority filter - 10; policy accept; ct state new counter; }; }' | ${nft} -f -
  sleep ${TRACKING_SECONDS}
fi`;
}

/** The tracking table goes once the drop table is loaded (which keeps the tracking on). */
export function stopTracking(nft = NFT): string {
    return `if ${nft} list table ${FIREWALL_FAMILY} ${TRACKING_TABLE} >/dev/null 2>&1; then ${nft} delete table ${FIREWALL_FAMILY} ${TRACKING_TABLE}; fi`;
}

export function firewallStep(s: FirewallStepInput): string {
    const file = s.file ?? FIREWALL_FILE;
    const candidate = s.candidate ?? FIREWALL_CANDIDATE;
    return [
        "# The host firewall: checked by the kernel before it replaces the loaded ruleset.",
        putFile(candidate, s.ruleset, "0600", "root:root"),
        "ZHA_CHANGED=0",
        `if ! cmp -s ${candidate} ${file}; then
  ${NFT} -c -f ${candidate}
  zha_dir ${file.slice(0, file.lastIndexOf("/"))} root:root
  zha_put_file ${file} 0600 root:root < ${candidate}
fi
zha_loaded_changed=$ZHA_CHANGED`,
        putFile(`${s.unitDir ?? SYSTEMD_UNIT_DIR}/${FIREWALL_UNIT}`, s.unitText, "0644", "root:root"),
        `if [ "$ZHA_CHANGED" = 1 ]; then systemctl daemon-reload; fi
systemctl enable --quiet ${FIREWALL_UNIT}
if [ "$ZHA_CHANGED" = 1 ] || [ "$zha_loaded_changed" = 1 ] || ! systemctl is-active --quiet ${FIREWALL_UNIT} || ! ${loaded}; then
  if ! ${loaded}; then
${startTracking()}
  fi
  systemctl restart ${FIREWALL_UNIT}
fi
${stopTracking()}`,
    ].join("\n");
}

/** Opens the host again: the unit stopped and gone (its stop deletes the table), the files removed. */
export function removeFirewall(s: Pick<FirewallStepInput, "file" | "candidate" | "unitDir"> = {}): string {
    const unit = `${s.unitDir ?? SYSTEMD_UNIT_DIR}/${FIREWALL_UNIT}`;
    return `if [ -e ${unit} ]; then
  systemctl disable --now ${FIREWALL_UNIT} 2>/dev/null || true
  rm -f ${unit}
  systemctl daemon-reload
fi
if [ -x ${NFT} ] && ${loaded}; then ${NFT} delete table ${FIREWALL_FAMILY} ${FIREWALL_TABLE}; fi
if [ -x ${NFT} ]; then ${stopTracking()}; fi
rm -f ${s.file ?? FIREWALL_FILE} ${s.candidate ?? FIREWALL_CANDIDATE}`;
}
