/**
 * What the lab checks of a running deployment: each Zabbix installation the stack's `topology`
 * output describes (instances), verified once `up` has applied the plan (verify), and the live
 * account `npm run lab -- status` gives of hosts, services and databases (status). Every question
 * about a database's state is the probe's (probe), which the drills ask too.
 */
export * from "./exposure";
export * from "./hostOs";
export * from "./instances";
export * from "./probe";
export * from "./status";
export * from "./units";
export * from "./verify";
