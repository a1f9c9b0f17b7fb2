/**
 * What the lab checks of a running deployment: each Zabbix installation the stack's `topology`
 * output describes (instances), verified once `up` has applied the plan (verify), and the live
 * account `npm run lab -- status` gives of hosts, services and databases (status).
 */
export * from "./instances";
export * from "./status";
export * from "./verify";
