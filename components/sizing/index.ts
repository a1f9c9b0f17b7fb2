/**
 * Cache sizes and process counts for zabbix_server.conf, derived from the expected load.
 *
 * The anchors are the second seed's sizing tiers (30 hosts / 3,000 items, 100 / 10,000 and
 * 1,000 / 100,000 at a 5-minute interval) and Zabbix's own hardware table (1,000 / 10,000 /
 * 100,000 / 1,000,000 metrics on 2/8, 4/16, 16/64, 32/96 cores/GiB). Zabbix's defaults are the
 * floor, so a small install renders exactly what the packages ship. The README documents the
 * formula; tests hold it to the tiers.
 */
import { LoadConfig } from "../config/types";

const MiB = 1024 * 1024;

export interface ServerSizing {
    /** New values per second: items / update interval. */
    readonly nvps: number;
    readonly cacheSizeMiB: number;
    readonly historyCacheSizeMiB: number;
    readonly historyIndexCacheSizeMiB: number;
    readonly trendCacheSizeMiB: number;
    readonly valueCacheSizeMiB: number;
    readonly startPollers: number;
    readonly startPreprocessors: number;
    readonly startDbSyncers: number;
    readonly startTrappers: number;
}

export interface HardwareTier {
    readonly name: "small" | "medium" | "large" | "very large";
    /** Upper bound of metrics (items) for the tier in Zabbix's table. */
    readonly items: number;
    readonly cpuCores: number;
    readonly memoryGiB: number;
}

/** Zabbix's hardware table (6.0 and 7.0 documentation, "Requirements"). */
export const HARDWARE_TABLE: readonly HardwareTier[] = [
    { name: "small", items: 1_000, cpuCores: 2, memoryGiB: 8 },
    { name: "medium", items: 10_000, cpuCores: 4, memoryGiB: 16 },
    { name: "large", items: 100_000, cpuCores: 16, memoryGiB: 64 },
    { name: "very large", items: 1_000_000, cpuCores: 32, memoryGiB: 96 },
];

/** The smallest row of Zabbix's hardware table that covers this many items. */
export function hardwareTier(load: LoadConfig): HardwareTier {
    return HARDWARE_TABLE.find(tier => load.items <= tier.items) ?? HARDWARE_TABLE[HARDWARE_TABLE.length - 1];
}

/** Rounds up to a power of two, as operators write cache sizes, within [floor, ceiling]. */
function cacheMiB(bytes: number, floorMiB: number, ceilingMiB: number): number {
    const mib = Math.max(floorMiB, Math.ceil(bytes / MiB));
    return Math.min(ceilingMiB, 2 ** Math.ceil(Math.log2(mib)));
}

function processes(work: number, perProcess: number, floor: number, ceiling: number): number {
    return Math.min(ceiling, Math.max(floor, Math.ceil(work / perProcess)));
}

/**
 * Per item: ~4 KiB of configuration cache (item, trigger, function, host share), ~1 KiB of value
 * cache (the recent values triggers read), ~100 B of history index. History cache holds a
 * 10-minute backlog of values at ~150 B each so a slow DB does not stall collection; the trend
 * cache holds one hour's trend per numeric item (~130 B). One poller per 50 values/s, one
 * preprocessor per 100 values/s, one DB syncer per 1,000 values/s.
 */
export function sizeServer(load: LoadConfig): ServerSizing {
    const nvps = load.items / load.updateIntervalSeconds;
    return {
        nvps: Math.round(nvps * 100) / 100,
        cacheSizeMiB: cacheMiB(load.items * 4 * 1024, 32, 64 * 1024),
        historyCacheSizeMiB: cacheMiB(nvps * 600 * 150, 16, 2048),
        historyIndexCacheSizeMiB: cacheMiB(load.items * 100, 4, 2048),
        trendCacheSizeMiB: cacheMiB(load.items * 130, 4, 2048),
        valueCacheSizeMiB: cacheMiB(load.items * 1024, 8, 64 * 1024),
        startPollers: processes(nvps, 50, 5, 1000),
        startPreprocessors: processes(nvps, 100, 3, 1000),
        startDbSyncers: processes(nvps, 1000, 4, 100),
        startTrappers: processes(load.monitoredHosts, 200, 5, 1000),
    };
}

/** Shared memory the caches need, for checking a host against its RAM. */
export function sizingMemoryMiB(s: ServerSizing): number {
    return (
        s.cacheSizeMiB + s.historyCacheSizeMiB + s.historyIndexCacheSizeMiB + s.trendCacheSizeMiB + s.valueCacheSizeMiB
    );
}

/**
 * PostgreSQL max_connections: every Zabbix server process holds a connection, two nodes may both
 * be connected while one takes over, and each frontend's php-fpm pool (50 children) may hold one each.
 */
export function postgresMaxConnections(s: ServerSizing, frontends: number): number {
    const perNode = s.startPollers + s.startPreprocessors + s.startDbSyncers + s.startTrappers + 40;
    return Math.max(100, 2 * perNode + 50 * frontends + 10);
}

/** A proxy's buffers for the expected load and the longest outage they must bridge. */
export interface ProxySizing {
    /** New values per second this proxy carries once one proxy of its group is lost. */
    readonly nvps: number;
    /** ProxyMemoryBufferSize: the outage's values held in memory (hybrid mode spills the rest to its database). */
    readonly memoryBufferMiB: number;
    /** ProxyOfflineBuffer: hours the proxy keeps values it could not send. */
    readonly offlineBufferHours: number;
    /** Disk the offline buffer needs at most in the proxy's SQLite file. */
    readonly offlineBufferDiskMiB: number;
}

/** How the load is shared between proxies. */
export interface ProxyShare {
    /** The proxies of this proxy's group. */
    readonly groupProxies: number;
    /** Every proxy of the stack: the monitored hosts are spread over them. */
    readonly allProxies: number;
}

/** Bytes a value takes in a proxy's memory buffer (record, item id, timestamps, a short value). */
const PROXY_VALUE_BYTES = 256;
/** Bytes a value takes in a proxy's SQLite history table. */
const PROXY_DISK_VALUE_BYTES = 150;
/** The shortest offline buffer: one day, so that a site cut or a manual recovery overnight loses nothing. */
export const PROXY_OFFLINE_BUFFER_MIN_HOURS = 24;

/**
 * A proxy carries its group's share of the load (groupProxies / allProxies of it), spread over its
 * group's proxies but one (the group has lost one and moved its hosts to the others):
 * nvps = items / interval * (groupProxies / allProxies) / max(1, groupProxies - 1).
 * ProxyMemoryBufferSize holds `outageSeconds` of those values at 256 B each, as a power of two from
 * 16 MiB (Debian's shipped value) to 2 GiB (Zabbix's ceiling); hybrid mode writes what does not fit
 * to the SQLite file, so memory bounds speed, not loss. ProxyOfflineBuffer keeps unsent values for
 * twice the outage, at least 24 h, at most Zabbix's 720 h; its disk is 150 B per value.
 */
export function sizeProxy(load: LoadConfig, share: ProxyShare, outageSeconds: number): ProxySizing {
    const total = load.items / load.updateIntervalSeconds;
    const nvps = (total * (share.groupProxies / Math.max(1, share.allProxies))) / Math.max(1, share.groupProxies - 1);
    const offlineBufferHours = Math.min(
        720,
        Math.max(PROXY_OFFLINE_BUFFER_MIN_HOURS, Math.ceil((2 * outageSeconds) / 3600)),
    );
    return {
        nvps: Math.round(nvps * 100) / 100,
        memoryBufferMiB: cacheMiB(nvps * outageSeconds * PROXY_VALUE_BYTES, 16, 2048),
        offlineBufferHours,
        offlineBufferDiskMiB: Math.ceil((nvps * offlineBufferHours * 3600 * PROXY_DISK_VALUE_BYTES) / MiB),
    };
}

/** Agent 2's buffers on one monitored host. */
export interface AgentSizing {
    /** Values per second one host produces. */
    readonly valuesPerSecond: number;
    /** BufferSize: values held in memory before they are sent or written to the persistent buffer. */
    readonly bufferSize: number;
    /** PersistentBufferPeriod, in seconds: how long values wait in the persistent buffer for a proxy or server. */
    readonly persistentBufferPeriodSeconds: number;
}

/**
 * One host produces items / monitoredHosts / interval values per second. BufferSize holds twice the
 * outage's values, from agent 2's default 1,000 to its ceiling 65,535. PersistentBufferPeriod keeps
 * values for twice the outage, at least a day (as the proxy's offline buffer), at most agent 2's 365 days.
 */
export function sizeAgent(load: LoadConfig, outageSeconds: number): AgentSizing {
    const valuesPerSecond = load.items / load.monitoredHosts / load.updateIntervalSeconds;
    return {
        valuesPerSecond: Math.round(valuesPerSecond * 1000) / 1000,
        bufferSize: Math.min(65535, Math.max(1000, Math.ceil(2 * valuesPerSecond * outageSeconds))),
        persistentBufferPeriodSeconds: Math.min(
            365 * 86400,
            Math.max(PROXY_OFFLINE_BUFFER_MIN_HOURS * 3600, Math.ceil(2 * outageSeconds)),
        ),
    };
}
