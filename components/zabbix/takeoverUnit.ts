/**
 * The HA watcher's systemd unit (zabbix-ha-takeover.service), bound to the Zabbix server's unit. Pure renderer.
 */
import { RENDERED_HEADER } from "../shell";
import { TAKEOVER_SCRIPT, TakeoverWatchInput } from "./takeoverWatch";

/** The watcher's unit name. */
export const TAKEOVER_UNIT = "zabbix-ha-takeover.service";

/** The watcher runs exactly while the server runs: an operator who stops a node stops its watcher too. */
export function renderTakeoverUnit(c: Pick<TakeoverWatchInput, "serverService">): string {
    return `# ${RENDERED_HEADER}
[Unit]
Description=zabbix-ha prompt takeover after a graceful stop of the active Zabbix node
After=${c.serverService}.service
PartOf=${c.serverService}.service

[Service]
ExecStart=${TAKEOVER_SCRIPT}
Restart=always
RestartSec=2

[Install]
WantedBy=${c.serverService}.service
`;
}
