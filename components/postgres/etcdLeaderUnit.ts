/**
 * The etcd leader keeper's systemd unit (zabbix-ha-etcd-leader.service), a pure renderer.
 */
import { RENDERED_HEADER } from "../shell";
import { ETCD_LEADER_KEEP_SCRIPT } from "./etcdLeaderKeep";

/** The keeper's unit name. */
export const ETCD_LEADER_UNIT = "zabbix-ha-etcd-leader.service";

/** The keeper runs beside the witness's etcd member and stops with it. */
export function renderEtcdLeaderUnit(): string {
    return `# ${RENDERED_HEADER}
[Unit]
Description=zabbix-ha: keeps etcd's leader on this witness, so losing a DB site elects no etcd leader
After=etcd.service
PartOf=etcd.service

[Service]
ExecStart=${ETCD_LEADER_KEEP_SCRIPT}
Restart=always
RestartSec=2

[Install]
WantedBy=etcd.service
`;
}
