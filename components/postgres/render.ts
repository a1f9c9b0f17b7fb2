/**
 * Pure renderers of the Zabbix database's hosts: typed input in, file text out, no Pulumi. One file
 * per file the host reads:
 * - PostgreSQL run by systemd: the shared settings conf.d/zabbix-ha.conf (postgresConf.ts), the
 *   role's conf.d/zabbix-ha-role.conf (roleConf.ts), a handing-over primary's read-only drop-in
 *   (readOnlyConf.ts), pg_hba.conf (pgHba.ts), .pgpass lines (pgpass.ts);
 * - the fence: its script (fence.ts), PostgreSQL's drop-in (fenceDropIn.ts), its watcher unit (fenceUnit.ts);
 * - Patroni: etcd's /etc/default/etcd (etcdEnvironment.ts), the witness's etcd leader keeper's script
 *   (etcdLeaderKeep.ts) and unit (etcdLeaderUnit.ts), patroni.yml (patroniYml.ts, its pg_hba
 *   from pgHba.ts), the distribution cluster's start.conf (startConf.ts).
 * The roles and names they share are in roles.ts. Tests hand them to initdb'd clusters, Patroni and etcd.
 */
export * from "./roles";
export * from "./postgresConf";
export * from "./roleConf";
export * from "./readOnlyConf";
export * from "./pgHba";
export * from "./pgpass";
export * from "./fence";
export * from "./fenceDropIn";
export * from "./fenceUnit";
export * from "./etcdEnvironment";
export * from "./etcdLeaderKeep";
export * from "./etcdLeaderUnit";
export * from "./patroniYml";
export * from "./startConf";
export * from "./tls";
