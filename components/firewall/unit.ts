/**
 * The systemd unit that loads a host's ruleset at boot. It is a unit of its own rather than a part
 * of /etc/nftables.conf: that file is the operator's (and starts with `flush ruleset`), and RHEL's
 * nftables service reads another. Pure: paths in, unit text out.
 */
import { RENDERED_HEADER } from "../shell";
import { FIREWALL_FAMILY, FIREWALL_TABLE } from "./ruleset";

export const FIREWALL_UNIT = "zabbix-ha-firewall.service";
/** The loaded ruleset; its name ends in .nft, so an nftables.conf that includes the directory loads it alike. */
export const FIREWALL_FILE = "/etc/nftables.d/zabbix-ha.nft";
export const NFT = "/usr/sbin/nft";

export function renderFirewallUnit(file = FIREWALL_FILE): string {
    return `# ${RENDERED_HEADER}
[Unit]
Description=zabbix-ha host firewall (nftables table ${FIREWALL_FAMILY} ${FIREWALL_TABLE})
Documentation=man:nft(8)
# Loaded before the network comes up, as nftables.service is, and after that service, whose
# flush ruleset would remove the table; restarting or reloading it loads the table again.
DefaultDependencies=no
Wants=network-pre.target
Before=network-pre.target shutdown.target
After=nftables.service
Conflicts=shutdown.target
PartOf=nftables.service
ReloadPropagatedFrom=nftables.service

[Service]
Type=oneshot
RemainAfterExit=yes
StandardInput=null
ExecStart=${NFT} -f ${file}
ExecReload=${NFT} -f ${file}
# Stopping it opens the host: the table goes (it may be gone already, after a flush ruleset).
ExecStop=-${NFT} delete table ${FIREWALL_FAMILY} ${FIREWALL_TABLE}

[Install]
WantedBy=sysinit.target
`;
}
