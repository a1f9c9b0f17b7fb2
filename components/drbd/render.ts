/**
 * Pure renderers of the DRBD + Pacemaker pair: typed input in, file text out, no Pulumi. The
 * DRBD resource file (drbd.ts), corosync.conf (corosync.ts) and the Pacemaker CIB (cib.ts);
 * tests hand each to the program that reads it (drbdadm, corosync, crm_verify and crm_simulate).
 */
export * from "./drbd";
export * from "./corosync";
export * from "./cib";
