/**
 * The drop-in that makes a handing-over primary read-only (conf.d/zabbix-ha-read-only.conf), a pure
 * renderer: every new transaction is read-only until the host is promoted again.
 */

/** The drop-in's name in PostgreSQL's conf.d. */
export const READ_ONLY_DROP_IN = "zabbix-ha-read-only.conf";

/** The read-only drop-in of a primary that hands over to `newPrimary`. */
export function renderReadOnlyConf(newPrimary: string): string {
    return `# Rendered by zabbix-ha while this primary hands over to ${newPrimary}; removed when it is promoted again.
default_transaction_read_only = on
`;
}
