/**
 * Debian's start.conf for the distribution's own PostgreSQL cluster on a host Patroni runs, a pure
 * renderer: `manual`, so that postgresql.service never starts that cluster beside Patroni's.
 */

/** start.conf saying the cluster starts only by hand. */
export function renderManualStartConf(): string {
    return "# Rendered by zabbix-ha: Patroni runs PostgreSQL here, not this cluster.\nmanual\n";
}
