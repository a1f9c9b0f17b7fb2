/**
 * The fence's watcher unit (zabbix-ha-pg-fence.service), a pure renderer.
 */
import { RENDERED_HEADER } from "../shell";
import { FENCE_SCRIPT, FenceInput } from "./fence";

/** The watcher runs on its own, so that stopping PostgreSQL (which it may do) does not stop it. */
export function renderFenceUnit(c: Pick<FenceInput, "service">): string {
    return `# ${RENDERED_HEADER}
[Unit]
Description=zabbix-ha fence: a superseded PostgreSQL primary never takes writes
After=${c.service}.service

[Service]
ExecStart=${FENCE_SCRIPT} watch
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
`;
}
