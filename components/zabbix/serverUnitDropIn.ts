/**
 * The drop-in for the Zabbix server's systemd unit (`<unit>.service.d/zabbix-ha.conf`). Pure.
 */
import { SYSTEMD_UNIT_DIR } from "../platform";
import { RENDERED_HEADER } from "../shell";

/** Where the drop-in for the server's unit `service` lives. */
export function serverUnitDropInPath(service: string): string {
    return `${SYSTEMD_UNIT_DIR}/${service}.service.d/zabbix-ha.conf`;
}

/**
 * How long libpq may take to connect (PGCONNECT_TIMEOUT, which Zabbix's server and frontend read
 * through libpq; neither has a setting of its own). Without it a connect never gives up: after the
 * host holding the active node and the primary was powered off and booted, its server's first
 * connect went to a balancer that had just started (HAProxy counts every server up until its first
 * check) and was routed to the local PostgreSQL, not yet up; the check then shut that server's side
 * down, the client's side stayed open, and the server waited on it without a word for minutes (the
 * Patroni lab). Bounded, it gives up and reconnects as Zabbix does after any DB error.
 */
export const DB_CONNECT_TIMEOUT_SECONDS = 10;

/** systemd's delay before it starts a server that stopped (RestartSec); the model's default restart delay. */
export const SERVER_RESTART_SECONDS = 5;

/**
 * A drop-in for the server's systemd unit. Zabbix stops itself, cleanly (exit 0), when its HA manager
 * meets a database error such as a primary that turned read-only for a moment, and the packages'
 * units restart only on signals: every node of a cluster could stop at once for good. Restart
 * always; an operator's `systemctl stop` still stops it. And a bounded DB connect (above).
 */
export function renderServerUnitDropIn(): string {
    return `# ${RENDERED_HEADER}
[Service]
Restart=always
RestartSec=${SERVER_RESTART_SECONDS}
# A DB connect that hangs (a balancer that just started) gives up and is retried.
Environment=PGCONNECT_TIMEOUT=${DB_CONNECT_TIMEOUT_SECONDS}
`;
}
