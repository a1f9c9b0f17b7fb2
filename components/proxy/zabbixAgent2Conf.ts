/**
 * zabbix_agent2.conf of one monitored host: pure renderer, typed input in, file text out. Active
 * checks only, through the proxies of its group (or the servers without proxies), buffered on disk.
 * The real-program tests hand it to `zabbix_agent2 -T`.
 */
import { ZabbixVersion } from "../config/types";
import { RENDERED_HEADER } from "../shell";
import { AgentSizing } from "../sizing";
import { DATA_PATH_TEMPLATE, sequenceUserParameter } from "./dataPathCheck";
import { PskFiles } from "./zabbixProxyConf";

/** What zabbix_agent2.conf says about one monitored host. */
export interface ZabbixAgent2ConfInput {
    /** The Zabbix series of agent 2 that reads the file. */
    readonly version: ZabbixVersion;
    /** Hostname: the host's name in Zabbix. */
    readonly hostname: string;
    /**
     * ServerActive: the group's proxies (or the cluster's nodes) `address:port`, separated by ";" as
     * one cluster: with a proxy group the agent tries them in turn and follows the redirect the group
     * gives. A "," would make them separate targets, each sent every value.
     */
    readonly serverActive: string;
    readonly logFile: string;
    readonly pidFile: string;
    /** The agent's control socket (zabbix_agent2 -R). */
    readonly controlSocket: string;
    /** Where the persistent buffer's SQLite file lives (absolute). */
    readonly persistentBufferFile: string;
    /** Where the data path check keeps its sequence number (absolute; dataPathCheck.ts). */
    readonly sequenceFile: string;
    /** Plugin configuration files the package ships (agent 2 fails on checks of a plugin left unconfigured). */
    readonly pluginInclude: string;
    readonly sizing: AgentSizing;
    readonly psk: PskFiles;
}

/**
 * How often the agent asks for its active checks again: 7.0's default, said out loud. After a failed
 * request agent 2 waits a minute instead (failover.ts). 6.0's agent 2 accepts 60 s at the least (it
 * refuses the file otherwise).
 */
export const REFRESH_ACTIVE_CHECKS_SECONDS = 5;
const REFRESH_ACTIVE_CHECKS_6_0_SECONDS = 60;

/**
 * BufferSend: the agent sends what it collected every 5 s (its default, said out loud): values reach
 * the proxy up to 5 s after collection, in batches, and the drills tell a stall from a batch by it.
 */
export const AGENT_BUFFER_SEND_SECONDS = 5;

/** zabbix_agent2.conf: active checks through ServerActive, no passive listener, a persistent buffer, PSK. */
export function renderZabbixAgent2Conf(c: ZabbixAgent2ConfInput): string {
    if (c.serverActive.includes(",")) {
        throw new Error(
            `ServerActive lists one cluster (";" between its nodes); a "," would send every value twice: ${c.serverActive}`,
        );
    }
    if (!c.persistentBufferFile.startsWith("/")) {
        throw new Error(
            `the persistent buffer file must be an absolute path, not ${JSON.stringify(c.persistentBufferFile)}`,
        );
    }
    const s = c.sizing;
    return `# ${RENDERED_HEADER}
# Zabbix agent 2 on "${c.hostname}": active checks only.
Hostname=${c.hostname}
# One cluster, separated by ";": the proxies of one group (or one server cluster's nodes).
ServerActive=${c.serverActive}
# Empty: no passive checks, and nothing listens on the agent's port.
Server=
RefreshActiveChecks=${c.version === "6.0" ? REFRESH_ACTIVE_CHECKS_6_0_SECONDS : REFRESH_ACTIVE_CHECKS_SECONDS}
PidFile=${c.pidFile}
LogFile=${c.logFile}
LogFileSize=0
ControlSocket=${c.controlSocket}

# About ${s.valuesPerSecond} values per second. Values wait on disk while no proxy answers, for up to
# ${s.persistentBufferPeriodSeconds} s (longer than the longest failover the model predicts).
BufferSend=${AGENT_BUFFER_SEND_SECONDS}
BufferSize=${s.bufferSize}
EnablePersistentBuffer=1
PersistentBufferFile=${c.persistentBufferFile}
PersistentBufferPeriod=${s.persistentBufferPeriodSeconds}s

# A pre-shared key towards the proxies; nothing unencrypted is accepted.
TLSConnect=psk
TLSAccept=psk
TLSPSKIdentity=${c.psk.identity}
TLSPSKFile=${c.psk.file}

# The data path check (template "${DATA_PATH_TEMPLATE}"): a sequence number, so that a gap shows a lost value.
${sequenceUserParameter(c.sequenceFile)}

Include=${c.pluginInclude}
`;
}
