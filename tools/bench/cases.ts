/**
 * What the bench previews: the dev environment and generated stack files of many sites.
 */
import * as path from "path";
import { FENCE_PASSWORD_SCRIPT } from "../../components/drbd";
import { EnvironmentConfig, readEnvironment, toEngineConfig } from "../offline/environment";

/** Roles of the hosts of one generated site, by how many hosts it has. */
const SITE_LAYOUTS: Record<number, readonly (readonly string[])[]> = {
    1: [["db", "zabbix-server", "frontend", "lb"]],
    4: [["db"], ["zabbix-server"], ["frontend"], ["lb"]],
};

/**
 * A stack file with `sites` sites of `hostsPerSite` hosts each (1: one all-roles host; 4: one host
 * each for db, zabbix-server, frontend and lb), numbered from 198.18.x.0/24. With 4 hosts per
 * site, site-1 has an L2 segment and its db and zabbix-server hosts form pattern 3's pair, so every
 * pattern forms.
 */
export function generatedEnvironment(sites: number, hostsPerSite: 1 | 4 = 1): EnvironmentConfig {
    const layout = SITE_LAYOUTS[hostsPerSite];
    const hostName = (site: number, host: number) => `host-${site}-${host + 1}`;
    const pair =
        hostsPerSite === 4
            ? {
                  drbd: {
                      site: "site-1",
                      nodes: [hostName(1, 0), hostName(1, 1)],
                      vip: "198.18.1.100",
                      disk: "/dev/vg0/zabbix-data",
                      metaDisk: "/dev/vg0/zabbix-drbd-md",
                      fencing: {
                          devices: [0, 1].map(h => ({
                              node: hostName(1, h),
                              params: {
                                  ip: `198.19.1.${h + 11}`,
                                  username: "fence",
                                  password_script: FENCE_PASSWORD_SCRIPT,
                              },
                          })),
                      },
                  },
              }
            : {};
    const raw = {
        zabbix: { version: "6.0", packageSource: "distribution" },
        failoverDelay: "10s",
        db: { primarySite: "site-1", adminNetwork: "198.19.255.0/24" },
        configSync: { sourceSite: "site-1" },
        cloud: { database: { host: "zabbix-db.cloud.example.net" } },
        ...pair,
        sites: Array.from({ length: sites }, (_, i) => ({
            name: `site-${i + 1}`,
            network: `198.18.${i + 1}.0/24`,
            ...(hostsPerSite === 4 && i === 0 ? { l2Segment: true } : {}),
            hosts: layout.map((roles, h) => ({
                name: hostsPerSite === 1 ? `host-${i + 1}` : hostName(i + 1, h),
                address: `198.18.${i + 1}.${10 + h}`,
                roles,
            })),
        })),
    };
    return { file: `generated-${sites}-sites`, ...toEngineConfig(raw) };
}

/** One environment the bench previews, with the target its figures are read against. */
export interface BenchCase {
    /** Names the case on the command line of the process that measures it. */
    readonly id: string;
    /** What the figures are of, for the reader. */
    readonly label: string;
    /** Sites, for the per-site figure; undefined for a real stack file. */
    readonly sites?: number;
    /** The target, printed next to the figures and never asserted. */
    readonly target: string;
    readonly environment: () => EnvironmentConfig;
}

export const BENCH_CASES: readonly BenchCase[] = [
    {
        id: "dev",
        label: "Pulumi.dev.yaml",
        target: "< 3 s",
        environment: () => readEnvironment(path.resolve(__dirname, "../../../Pulumi.dev.yaml")),
    },
    ...[10, 25, 50].map(sites => ({
        id: `${sites}x1`,
        label: `${sites} generated sites of one all-roles host`,
        sites,
        target: sites === 50 ? "< 10 s" : "growing linearly",
        environment: () => generatedEnvironment(sites),
    })),
    {
        id: "100x4",
        label: "100 generated sites of 4 hosts (db, zabbix-server, frontend, lb)",
        sites: 100,
        target: "< 10 s and < 500 MiB",
        environment: () => generatedEnvironment(100, 4),
    },
];
