/**
 * Pure step scripts of the Zabbix server nodes, the frontends and pattern 2's configuration sync
 * (POSIX sh bodies for Host.step): input in, text out. Each is safe to run again: files are rewritten
 * only when their content changes, and services restart only then (or when they are not running).
 */
import { CA_FILE, CERT_FILE, ROOT_KEY } from "../pki/files";
import { CONFIG_DIR, NGINX_DEFAULT_SITE, Platform, SYSTEMD_UNIT_DIR, ZabbixLayout } from "../platform";
import { DbClientInput, zabbixSqlClient } from "../postgres/schema";
import { installWatcher, putFile, putSecretFile, removeWatcher, shellQuote } from "../shell";
import { renderConfigSyncScript } from "./configSyncScript";
import { renderConfigSyncService } from "./configSyncService";
import { renderConfigSyncTimer } from "./configSyncTimer";
import { renderNginxSite } from "./nginxSite";
import { renderPhpFpmPool } from "./phpFpmPool";
import { SERVER_PASSWORD_INCLUDE, zabbixServerPasswordTemplate } from "./serverPasswordInclude";
import { renderServerUnitDropIn, serverUnitDropInPath } from "./serverUnitDropIn";
import { TakeoverWatchInput, TAKEOVER_SCRIPT, renderTakeoverScript } from "./takeoverWatch";
import { TAKEOVER_UNIT, renderTakeoverUnit } from "./takeoverUnit";
import { ZabbixFrontendConfInput, renderZabbixConfPhp } from "./zabbixConfPhp";
import { ZabbixServerConfInput, renderZabbixServerConf } from "./zabbixServerConf";

/** Shell variable the server and frontend steps read the zabbix role's password into (from stdin). */
export const DB_PASSWORD_VARIABLE = "ZABBIX_DB_PASSWORD";

/** The frontend's file with the DB password, which zabbix.conf.php reads. */
export const FRONTEND_PASSWORD_FILE = "/etc/zabbix/web-db-password";

/** Pattern 2's sync script, its API password (root only) and its systemd units. */
export const CONFIG_SYNC_SCRIPT = "/usr/local/sbin/zabbix-ha-config-sync";
export const CONFIG_SYNC_PASSWORD = `${CONFIG_DIR}/config-sync.password`;
export const CONFIG_SYNC_SERVICE = "zabbix-ha-config-sync.service";
export const CONFIG_SYNC_TIMER = "zabbix-ha-config-sync.timer";

/** Stores the cluster-wide failover delay in the database (`config.ha_failover_delay`), when it differs. */
export function failoverDelayStep(db: Omit<DbClientInput, "passwordVariable">, delay: string): string {
    return [
        zabbixSqlClient({ ...db, passwordVariable: DB_PASSWORD_VARIABLE }),
        `zha_zabbix_sql -c "update config set ha_failover_delay = '${delay}' where ha_failover_delay <> '${delay}'"`,
    ].join("\n");
}

/** What a server node's step installs. */
export interface ServerNodeStepInput {
    /** The node's zabbix_server.conf (its password include is SERVER_PASSWORD_INCLUDE). */
    readonly conf: ZabbixServerConfInput;
    /** Where the packages keep the server's configuration, and its systemd unit. */
    readonly layout: Pick<ZabbixLayout, "serverConfig" | "serverService">;
    /**
     * The HA watcher to run beside a node systemd runs; absent when a cluster manager starts the
     * server on one node at a time (the step then only writes the configuration).
     */
    readonly watcher?: TakeoverWatchInput;
}

/** A server node: its password include and configuration, and (run by systemd) the server and its watcher running. */
export function serverNodeStep(s: ServerNodeStepInput): string {
    const service = s.layout.serverService;
    const byClusterManager = s.watcher === undefined;
    return [
        putSecretFile(
            SERVER_PASSWORD_INCLUDE,
            DB_PASSWORD_VARIABLE,
            "0640",
            "root:zabbix",
            zabbixServerPasswordTemplate(DB_PASSWORD_VARIABLE),
        ),
        ...(byClusterManager ? [] : ["zha_password_changed=$ZHA_CHANGED"]),
        putFile(s.layout.serverConfig, renderZabbixServerConf(s.conf), "0640", "root:zabbix"),
        ...(byClusterManager
            ? [
                  // The cluster manager starts the server; restart it only where it runs now.
                  `if [ "$ZHA_CHANGED" = 1 ] && systemctl is-active --quiet ${service}; then systemctl restart ${service}; fi`,
              ]
            : [
                  putFile(serverUnitDropInPath(service), renderServerUnitDropIn(), "0644", "root:root"),
                  `if [ "$ZHA_CHANGED" = 1 ]; then systemctl daemon-reload; fi`,
                  `systemctl enable ${service}`,
                  // After a password rotation the running server holds the old password: its stop waits for a
                  // final sync the database now refuses (90 s in the lab). What it cannot flush is lost either
                  // way, so that stop is bounded; any other restart stays a plain graceful one.
                  `if [ "$zha_password_changed" = 1 ] && systemctl is-active --quiet ${service}; then
  echo "the DB password changed: stopping the server (it cannot flush with the old one) within 5 s"
  timeout 5 systemctl stop ${service} || systemctl kill --signal=SIGKILL ${service} || true
fi`,
                  `if [ "$ZHA_CHANGED" = 1 ] || ! systemctl is-active --quiet ${service}; then systemctl restart ${service}; fi`,
                  `zha_retry 30 systemctl is-active --quiet ${service}`,
                  // A lone node runs it too: it removes the rows of nodes that left (a cluster shrunk to one).
                  haWatcher(s.watcher),
              ]),
    ].join("\n");
}

/** Installs and runs the HA watcher beside a node (its own change flag: the server is not restarted for it). */
function haWatcher(input: TakeoverWatchInput): string {
    return installWatcher({
        script: TAKEOVER_SCRIPT,
        scriptText: renderTakeoverScript(input),
        unit: TAKEOVER_UNIT,
        unitText: renderTakeoverUnit(input),
    });
}

/** Stops and removes the HA watcher where one was installed (a node that leaves the cluster). */
export function takeoverRemoval(): string {
    return removeWatcher({ script: TAKEOVER_SCRIPT, unit: TAKEOVER_UNIT });
}

/** The node a server step's delete removes. */
export interface NodeRemovalInput {
    /** The node's HANodeName. */
    readonly nodeName: string;
    readonly serverService: string;
}

/**
 * Undoes a native-HA node (its host, or its zabbix-server role, left the stack): the server stops
 * and stays disabled, so it can never become active again. Its row in ha_node is removed by the
 * active node's watcher (`zabbix_server -R ha_remove_node`) once it shows stopped or unavailable:
 * this delete runs after every other host's update, when this host may no longer reach the database.
 * The node's password include and its unit's drop-in go.
 */
export function nodeRemovalStep(c: NodeRemovalInput): string {
    const files = [SERVER_PASSWORD_INCLUDE, serverUnitDropInPath(c.serverService)];
    return [
        `echo "this host no longer runs Zabbix HA node ${c.nodeName}: stopping it for good (the active node's watcher removes it from ha_node)"`,
        takeoverRemoval(),
        `systemctl disable --now ${c.serverService}`,
        `rm -f ${files.map(shellQuote).join(" ")}`,
        "systemctl daemon-reload",
    ].join("\n");
}

/** Where a frontend's files live on its platform. */
export function frontendFiles(platform: Platform, layout: ZabbixLayout) {
    return {
        site: `${platform.nginxSiteDir}/zabbix.conf`,
        pool: `${platform.phpFpm.poolDir}/zabbix.conf`,
        socket: `${platform.phpFpm.socketDir}/zabbix.sock`,
        conf: layout.frontendConfig,
    };
}

/** What a frontend's step installs. */
export interface FrontendStepInput {
    readonly platform: Platform;
    readonly layout: ZabbixLayout;
    /** zabbix.conf.php's settings; the password file is FRONTEND_PASSWORD_FILE. */
    readonly conf: Omit<ZabbixFrontendConfInput, "passwordFile">;
    /** Port nginx serves the UI on, over HTTPS. */
    readonly port: number;
    /** Addresses nginx listens on: the host's own, and a pair's VIP where it serves the UI there. */
    readonly listenAddresses: readonly string[];
    /** PHP time zone. */
    readonly timezone: string;
    /** Who runs nginx and php-fpm: systemd, or a cluster manager on one node at a time (then only a running one restarts). */
    readonly runBy: "systemd" | "cluster-manager";
}

/** A frontend: its DB password file, zabbix.conf.php, the php-fpm pool and nginx site, and both services running. */
export function frontendStep(f: FrontendStepInput): string {
    const php = f.platform.phpFpm;
    const files = frontendFiles(f.platform, f.layout);
    const webUser = php.webUser;
    return [
        putSecretFile(FRONTEND_PASSWORD_FILE, DB_PASSWORD_VARIABLE, "0640", `root:${webUser}`),
        putFile(
            files.conf,
            renderZabbixConfPhp({ ...f.conf, passwordFile: FRONTEND_PASSWORD_FILE }),
            "0640",
            `root:${webUser}`,
        ),
        putFile(
            files.pool,
            renderPhpFpmPool({ socket: files.socket, user: webUser, timezone: f.timezone }),
            "0644",
            "root:root",
        ),
        putFile(
            files.site,
            renderNginxSite({
                listenAddresses: f.listenAddresses,
                listenPort: f.port,
                certificateFile: CERT_FILE,
                keyFile: ROOT_KEY,
                root: f.layout.frontendRoot,
                phpSocket: files.socket,
            }),
            "0644",
            "root:root",
        ),
        // The distribution's default site listens on port 80, which a co-located load balancer uses.
        `if [ -e ${NGINX_DEFAULT_SITE} ]; then rm -f ${NGINX_DEFAULT_SITE}; ZHA_CHANGED=1; fi`,
        "nginx -t -q",
        ...(f.runBy === "cluster-manager"
            ? [
                  `if [ "$ZHA_CHANGED" = 1 ] && systemctl is-active --quiet nginx; then systemctl restart ${php.service} nginx; fi`,
              ]
            : [
                  `systemctl enable ${php.service} nginx`,
                  `if [ "$ZHA_CHANGED" = 1 ] || ! systemctl is-active --quiet ${php.service} || ! systemctl is-active --quiet nginx; then systemctl restart ${php.service} nginx; fi`,
              ]),
    ].join("\n");
}

/** Undoes a frontend: its site, pool and DB settings go; nginx and php-fpm serve nothing of Zabbix. */
export function frontendStepDelete(platform: Platform, layout: ZabbixLayout): string {
    const php = platform.phpFpm;
    const files = frontendFiles(platform, layout);
    return [
        `echo "this host no longer serves the Zabbix UI: removing its site, pool and settings"`,
        `rm -f ${[files.site, files.pool, files.conf, FRONTEND_PASSWORD_FILE].join(" ")}`,
        `if systemctl is-active --quiet nginx; then systemctl reload nginx; fi`,
        `if systemctl is-active --quiet ${php.service}; then systemctl restart ${php.service}; fi`,
    ].join("\n");
}

/** What the configuration sync's step installs. */
export interface ConfigSyncStepInput {
    /** JSON-RPC URL of the source site's Zabbix. */
    readonly sourceUrl: string;
    /** JSON-RPC URLs of the sites that receive the configuration. */
    readonly targetUrls: readonly string[];
    /** Zabbix user the sync logs in as. */
    readonly apiUser: string;
    /** Shell variable holding that user's password (read from stdin). */
    readonly passwordVariable: string;
    /** Minutes between runs. */
    readonly intervalMinutes: number;
}

/** Pattern 2's sync host: the password file, the script, its service and timer, and the timer running. */
export function configSyncStep(c: ConfigSyncStepInput): string {
    const units = { scriptPath: CONFIG_SYNC_SCRIPT, intervalMinutes: c.intervalMinutes };
    return [
        putSecretFile(CONFIG_SYNC_PASSWORD, c.passwordVariable, "0600", "root:root"),
        putFile(
            CONFIG_SYNC_SCRIPT,
            renderConfigSyncScript({
                sourceUrl: c.sourceUrl,
                targetUrls: c.targetUrls,
                apiUser: c.apiUser,
                passwordFile: CONFIG_SYNC_PASSWORD,
                caFile: CA_FILE,
            }),
            "0755",
            "root:root",
        ),
        putFile(`${SYSTEMD_UNIT_DIR}/${CONFIG_SYNC_SERVICE}`, renderConfigSyncService(units), "0644", "root:root"),
        putFile(`${SYSTEMD_UNIT_DIR}/${CONFIG_SYNC_TIMER}`, renderConfigSyncTimer(units), "0644", "root:root"),
        `if [ "$ZHA_CHANGED" = 1 ]; then systemctl daemon-reload; fi`,
        `systemctl enable --now ${CONFIG_SYNC_TIMER}`,
    ].join("\n");
}

/** Undoes the sync: its timer stops for good and its files go. */
export function configSyncStepDelete(): string {
    return [
        `echo "the configuration sync leaves this host: its timer stops for good"`,
        `systemctl disable --now ${CONFIG_SYNC_TIMER}`,
        `rm -f ${CONFIG_SYNC_SCRIPT} ${CONFIG_SYNC_PASSWORD} ${SYSTEMD_UNIT_DIR}/${CONFIG_SYNC_SERVICE} ${SYSTEMD_UNIT_DIR}/${CONFIG_SYNC_TIMER}`,
        "systemctl daemon-reload",
    ].join("\n");
}
