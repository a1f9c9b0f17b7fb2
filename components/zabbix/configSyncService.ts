/**
 * The systemd service that runs pattern 2's configuration sync once (its timer starts it). Pure renderer.
 */
import { RENDERED_HEADER } from "../shell";

/** What the sync's service and timer need to know. */
export interface ConfigSyncUnitsInput {
    readonly scriptPath: string;
    readonly intervalMinutes: number;
}

/** zabbix-ha-config-sync.service: one run of the sync script. */
export function renderConfigSyncService(c: ConfigSyncUnitsInput): string {
    return `# ${RENDERED_HEADER}
[Unit]
Description=Copy Zabbix configuration to the other sites (zabbix-ha pattern 2)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=${c.scriptPath}
`;
}
