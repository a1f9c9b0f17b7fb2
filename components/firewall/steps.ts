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
  systemctl restart ${FIREWALL_UNIT}
fi`,
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
rm -f ${s.file ?? FIREWALL_FILE} ${s.candidate ?? FIREWALL_CANDIDATE}`;
}
