/**
 * The fence's drop-in for PostgreSQL's unit (`<unit>.service.d/zabbix-ha-fence.conf`), a pure renderer.
 */
import { SYSTEMD_UNIT_DIR } from "../platform";
import { RENDERED_HEADER } from "../shell";
import { FENCE_SCRIPT } from "./fence";

/** Where the drop-in for PostgreSQL's unit `service` lives. */
export function fenceDropInPath(service: string): string {
    return `${SYSTEMD_UNIT_DIR}/${service}.service.d/zabbix-ha-fence.conf`;
}

/** A drop-in for PostgreSQL's unit: the fence looks before every start (the "+" runs it as root). */
export function renderFenceDropIn(): string {
    return `# ${RENDERED_HEADER}
[Service]
ExecStartPre=+${FENCE_SCRIPT} boot
`;
}
