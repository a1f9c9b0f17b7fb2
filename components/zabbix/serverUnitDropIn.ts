/**
 * The drop-in for the Zabbix server's systemd unit (`<unit>.service.d/zabbix-ha.conf`). Pure.
 */
import { SYSTEMD_UNIT_DIR } from "../platform";
import { RENDERED_HEADER } from "../shell";

/** Where the drop-in for the server's unit `service` lives. */
export function serverUnitDropInPath(service: string): string {
    return `${SYSTEMD_UNIT_DIR}/${service}.service.d/zabbix-ha.conf`;
}

/** systemd's delay before it starts a server that stopped (RestartSec); the model's default restart delay. */
export const SERVER_RESTART_SECONDS = 5;

/**
 * A drop-in for the server's systemd unit. Zabbix stops itself, cleanly (exit 0), when its HA manager
 * meets a database error such as a primary that turned read-only for a moment, and the packages'
 * units restart only on signals: every node of a cluster could stop at once for good. Restart
 * always; an operator's `systemctl stop` still stops it.
 */
export function renderServerUnitDropIn(): string {
    return `# ${RENDERED_HEADER}
[Service]
Restart=always
RestartSec=${SERVER_RESTART_SECONDS}
`;
}
