/**
 * The systemd timer that starts pattern 2's configuration sync every few minutes. Pure renderer.
 */
import { RENDERED_HEADER } from "../shell";
import { ConfigSyncUnitsInput } from "./configSyncService";

/** zabbix-ha-config-sync.timer: a first run 5 minutes after boot, then every `intervalMinutes`. */
export function renderConfigSyncTimer(c: ConfigSyncUnitsInput): string {
    return `# ${RENDERED_HEADER}
[Unit]
Description=Copy Zabbix configuration to the other sites every ${c.intervalMinutes} min

[Timer]
OnBootSec=5min
OnUnitActiveSec=${c.intervalMinutes}min

[Install]
WantedBy=timers.target
`;
}
