/**
 * Pure renderers of the Zabbix server, the frontend and the configuration sync: typed input in, file
 * text out, no Pulumi. One file per file the host reads:
 * - zabbix_server.conf (zabbixServerConf.ts), its included password file (serverPasswordInclude.ts),
 *   the server unit's drop-in (serverUnitDropIn.ts), the agents' Server/ServerActive (agentSettings.ts);
 * - the HA watcher's script (takeoverWatch.ts) and unit (takeoverUnit.ts);
 * - the frontend's zabbix.conf.php (zabbixConfPhp.ts), nginx site (nginxSite.ts) and php-fpm pool (phpFpmPool.ts);
 * - pattern 2's sync script (configSyncScript.ts), service (configSyncService.ts) and timer (configSyncTimer.ts);
 * - the API client both API scripts share (apiClient.ts), and the Zabbix objects step (objectsScript.ts).
 * Tests hand them to the programs that read them (zabbix_server, php, nginx, shellcheck).
 */
export * from "./zabbixServerConf";
export * from "./serverPasswordInclude";
export * from "./serverUnitDropIn";
export * from "./agentSettings";
export * from "./takeoverWatch";
export * from "./takeoverUnit";
export * from "./zabbixConfPhp";
export * from "./nginxSite";
export * from "./phpFpmPool";
export * from "./configSyncScript";
export * from "./configSyncService";
export * from "./configSyncTimer";
export * from "./apiClient";
export * from "./objectsScript";
