/**
 * Pure step scripts of the data path's hosts (POSIX sh bodies for Host.step): a proxy and a
 * monitored host's agent 2. Each writes the service's PSK (from stdin) and its configuration only
 * when they change, makes the directory of its SQLite file, and restarts the service only then (or
 * when it is not running).
 */
import { ZabbixDaemonLayout } from "../platform";
import { putFile, putSecretFile, shellQuote } from "../shell";
import { ZabbixAgent2ConfInput, renderZabbixAgent2Conf } from "./zabbixAgent2Conf";
import { ZabbixProxyConfInput, renderZabbixProxyConf } from "./zabbixProxyConf";

/** Shell variable the steps read the PSK into (from stdin). */
export const PSK_VARIABLE = "ZHA_ZABBIX_PSK";

/** Where a proxy keeps its SQLite database, and its PSK. */
export const PROXY_DATA_DIR = "/var/lib/zabbix-proxy";
export const PROXY_DB_FILE = `${PROXY_DATA_DIR}/zabbix_proxy.db`;
export const PROXY_PSK_FILE = "/etc/zabbix/zabbix_proxy.psk";
/** Where agent 2 keeps its persistent buffer, and its PSK. */
export const AGENT_DATA_DIR = "/var/lib/zabbix-agent2";
export const AGENT_BUFFER_FILE = `${AGENT_DATA_DIR}/buffer.db`;
/** The data path check's sequence number (dataPathCheck.ts), beside the buffer: the agent's user writes both. */
export const AGENT_SEQUENCE_FILE = `${AGENT_DATA_DIR}/sequence`;
export const AGENT_PSK_FILE = "/etc/zabbix/zabbix_agent2.psk";
/** The plugin configuration Debian's and the vendor's agent 2 packages ship. */
export const AGENT_PLUGIN_INCLUDE = "/etc/zabbix/zabbix_agent2.d/plugins.d/*.conf";

/** One Zabbix daemon's files and service. */
interface DaemonStepInput {
    readonly layout: ZabbixDaemonLayout;
    readonly pskFile: string;
    readonly dataDir: string;
    readonly config: string;
}

/** The PSK (0640, the service's group alone reads it), the data directory, the config, the service running. */
function daemonStep(d: DaemonStepInput): string {
    const { service, user } = d.layout;
    return [
        putSecretFile(d.pskFile, PSK_VARIABLE, "0640", `root:${user}`),
        `zha_dir ${shellQuote(d.dataDir)} ${user}:${user}`,
        putFile(d.layout.config, d.config, "0640", `root:${user}`),
        `systemctl enable --quiet ${service}`,
        `if [ "$ZHA_CHANGED" = 1 ] || ! systemctl is-active --quiet ${service}; then systemctl restart ${service}; fi`,
        `zha_retry 30 systemctl is-active --quiet ${service}`,
    ].join("\n");
}

/** Undoes a daemon's step (its host or role left the stack): the service stops for good, its PSK goes. */
function daemonRemoval(layout: ZabbixDaemonLayout, pskFile: string, what: string): string {
    return [
        `echo "this host no longer runs ${what}: stopping ${layout.service} for good"`,
        `systemctl disable --now ${layout.service} 2>/dev/null || true`,
        `rm -f ${shellQuote(pskFile)}`,
    ].join("\n");
}

/** A proxy: its PSK, SQLite directory and zabbix_proxy.conf (DBName PROXY_DB_FILE), and the proxy running. */
export function proxyStep(
    layout: ZabbixDaemonLayout,
    conf: Omit<ZabbixProxyConfInput, "dbPath" | "logFile" | "pidFile">,
): string {
    return daemonStep({
        layout,
        pskFile: PROXY_PSK_FILE,
        dataDir: PROXY_DATA_DIR,
        config: renderZabbixProxyConf({
            ...conf,
            dbPath: PROXY_DB_FILE,
            logFile: layout.logFile,
            pidFile: layout.pidFile,
        }),
    });
}

export function proxyRemoval(layout: ZabbixDaemonLayout): string {
    return daemonRemoval(layout, PROXY_PSK_FILE, "a Zabbix proxy");
}

/** A monitored host: its PSK, persistent buffer directory and zabbix_agent2.conf, and agent 2 running. */
export function agentStep(
    layout: ZabbixDaemonLayout,
    conf: Omit<
        ZabbixAgent2ConfInput,
        "persistentBufferFile" | "sequenceFile" | "pluginInclude" | "logFile" | "pidFile"
    >,
): string {
    return daemonStep({
        layout,
        pskFile: AGENT_PSK_FILE,
        dataDir: AGENT_DATA_DIR,
        config: renderZabbixAgent2Conf({
            ...conf,
            logFile: layout.logFile,
            pidFile: layout.pidFile,
            persistentBufferFile: AGENT_BUFFER_FILE,
            sequenceFile: AGENT_SEQUENCE_FILE,
            pluginInclude: AGENT_PLUGIN_INCLUDE,
        }),
    });
}

export function agentRemoval(layout: ZabbixDaemonLayout): string {
    return daemonRemoval(layout, AGENT_PSK_FILE, "Zabbix agent 2");
}
