/**
 * The newest-primary watcher's systemd unit (zabbix-ha-newest-primary.service), a pure renderer.
 */
import { RENDERED_HEADER } from "../shell";
import { NEWEST_PRIMARY_WATCH } from "./primaryCheck";

/** The watcher runs as root: it reads the check role's .pgpass and HAProxy's admin socket. */
export function renderNewestPrimaryUnit(): string {
    return `# ${RENDERED_HEADER}
[Unit]
Description=zabbix-ha: only the newest DB primary takes sessions through HAProxy's DB port
After=haproxy.service

[Service]
ExecStart=${NEWEST_PRIMARY_WATCH}
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
`;
}
