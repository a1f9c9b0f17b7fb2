/**
 * Facts about the operating systems and package sources the library deploys onto: package names,
 * file locations and service names. Renderers and validation read these; nothing here touches a host.
 */
import { posix } from "path";
import { OsFamily, PackageSource, ZabbixVersion } from "../config/types";

/** Where the library keeps what it records on a host (a DB host's role mark, a repository pending its packages). */
export const STATE_DIR = "/var/lib/zabbix-ha";
/** Where the library keeps its own settings and secrets on a host (root-only password files, the CIB). */
export const CONFIG_DIR = "/etc/zabbix-ha";
/** Where the library installs the programs it runs beside the services (watchers, the fence). */
export const LIBEXEC_DIR = "/usr/local/libexec/zabbix-ha";

/** Where systemd reads the units and drop-ins an administrator (here, the library) adds. */
export const SYSTEMD_UNIT_DIR = "/etc/systemd/system";

/**
 * The site Debian's nginx package enables on port 80, where a co-located load balancer binds: the
 * host's package step and the frontend's step remove it.
 */
export const NGINX_DEFAULT_SITE = "/etc/nginx/sites-enabled/default";

export interface PostgresLayout {
    readonly version: string;
    readonly packages: readonly string[];
    /** Directory of the cluster's data files. */
    readonly dataDir: string;
    /** Directory holding postgresql.conf and pg_hba.conf. */
    readonly configDir: string;
    /** Directory of the server binaries (pg_ctl, pg_basebackup). */
    readonly binDir: string;
    readonly service: string;
    /** Home directory of the postgres OS user, where its .pgpass lives. */
    readonly home: string;
    /** Command that creates an empty cluster when the package does not (RHEL). */
    readonly initCommand?: string;
}

export interface PhpFpmLayout {
    /** php-fpm and PHP's PostgreSQL module. */
    readonly packages: readonly string[];
    /** Where php-fpm reads its pools. */
    readonly poolDir: string;
    /** php-fpm's systemd unit. */
    readonly service: string;
    /** Directory for the pool's unix socket. */
    readonly socketDir: string;
    /** User that nginx and php-fpm run as on this OS. */
    readonly webUser: string;
}

/** One operating system's facts: its packages, where they keep their files, and their services. */
export interface Platform {
    readonly family: OsFamily;
    /** The OS as operators name it, for messages ("Debian 12"). */
    readonly label: string;
    readonly packageManager: "apt" | "dnf";
    /** The vendor repository's path segment and release name for this OS ("debian", "12"). */
    readonly vendorDistro: {
        readonly name: "debian" | "ubuntu" | "rhel";
        readonly release: string;
        readonly codename?: string;
    };
    /** The Zabbix series the distribution's own archive ships, if it ships a supported one. */
    readonly distributionZabbix?: ZabbixVersion;
    /** The Zabbix series the vendor's repository publishes packages of for this OS. */
    readonly vendorZabbix: readonly ZabbixVersion[];
    /** The Patroni version the distribution's own archive ships, if it ships one. */
    readonly distributionPatroni?: string;
    /** The distribution's PostgreSQL: packages, directories, unit. */
    readonly postgres: PostgresLayout;
    /** The distribution's php-fpm, which serves the Zabbix frontend. */
    readonly phpFpm: PhpFpmLayout;
    /** Where nginx reads the sites it includes. */
    readonly nginxSiteDir: string;
    /** Packages a role needs beyond its own service's, by what they are for. */
    readonly packages: RolePackages;
}

/** The packages of what a host does, as this platform names them. */
export interface RolePackages {
    /** PostgreSQL's client, for the load balancer's primary check and the schema loader. */
    readonly postgresClient: string;
    /** A node of a DRBD + Pacemaker pair (pattern 3, pattern 5's fallback pair). */
    readonly pair: readonly string[];
    /** An etcd member (a witness host, or a DB host under Patroni). */
    readonly etcd: readonly string[];
    /** A DB host Patroni runs, its etcd member's included. */
    readonly patroni: readonly string[];
}

/** The cluster packages as Debian and Ubuntu name them (RHEL 9 is given the same names for now: not yet checked there). */
const PAIR_PACKAGES = ["drbd-utils", "pacemaker", "pacemaker-cli-utils", "corosync", "resource-agents", "fence-agents"];
const ETCD_PACKAGES = ["etcd-server", "etcd-client"];
const PATRONI_PACKAGES = [...ETCD_PACKAGES, "patroni", "python3-etcd"];

function debianLike(
    family: OsFamily,
    label: string,
    distro: Platform["vendorDistro"],
    pg: string,
    php: string,
    vendorZabbix: readonly ZabbixVersion[],
    distributionZabbix?: ZabbixVersion,
    distributionPatroni?: string,
): Platform {
    return {
        family,
        label,
        packageManager: "apt",
        vendorDistro: distro,
        vendorZabbix,
        distributionZabbix,
        distributionPatroni,
        postgres: {
            version: pg,
            packages: [`postgresql-${pg}`],
            dataDir: `/var/lib/postgresql/${pg}/main`,
            configDir: `/etc/postgresql/${pg}/main`,
            binDir: `/usr/lib/postgresql/${pg}/bin`,
            service: `postgresql@${pg}-main`,
            home: "/var/lib/postgresql",
        },
        phpFpm: {
            packages: [`php${php}-fpm`, `php${php}-pgsql`],
            poolDir: `/etc/php/${php}/fpm/pool.d`,
            service: `php${php}-fpm`,
            socketDir: "/run/php",
            webUser: "www-data",
        },
        nginxSiteDir: "/etc/nginx/conf.d",
        packages: {
            postgresClient: `postgresql-client-${pg}`,
            pair: PAIR_PACKAGES,
            etcd: ETCD_PACKAGES,
            patroni: PATRONI_PACKAGES,
        },
    };
}

/** Both LTS series the library deploys, as the vendor publishes them for most OSes. */
const BOTH_LTS: readonly ZabbixVersion[] = ["6.0", "7.0"];

const PLATFORMS: Record<OsFamily, Platform> = {
    debian12: debianLike(
        "debian12",
        "Debian 12",
        { name: "debian", release: "12", codename: "bookworm" },
        "15",
        "8.2",
        BOTH_LTS,
        "6.0",
        "3.0.2",
    ),
    // The vendor publishes 7.0 for Debian 13; the library knows of no 6.0 build for it.
    debian13: debianLike(
        "debian13",
        "Debian 13",
        { name: "debian", release: "13", codename: "trixie" },
        "17",
        "8.4",
        ["7.0"],
        "7.0",
        "4.0.7",
    ),
    "ubuntu22.04": debianLike(
        "ubuntu22.04",
        "Ubuntu 22.04",
        { name: "ubuntu", release: "22.04", codename: "jammy" },
        "14",
        "8.1",
        BOTH_LTS,
        undefined,
        "2.1.2",
    ),
    "ubuntu24.04": debianLike(
        "ubuntu24.04",
        "Ubuntu 24.04",
        { name: "ubuntu", release: "24.04", codename: "noble" },
        "16",
        "8.3",
        BOTH_LTS,
        "6.0",
        "3.2.2",
    ),
    rhel9: {
        family: "rhel9",
        label: "RHEL 9 family",
        packageManager: "dnf",
        vendorDistro: { name: "rhel", release: "9" },
        vendorZabbix: BOTH_LTS,
        postgres: {
            version: "13",
            packages: ["postgresql-server"],
            dataDir: "/var/lib/pgsql/data",
            configDir: "/var/lib/pgsql/data",
            binDir: "/usr/bin",
            service: "postgresql",
            home: "/var/lib/pgsql",
            initCommand: "postgresql-setup --initdb",
        },
        phpFpm: {
            packages: ["php-fpm", "php-pgsql"],
            poolDir: "/etc/php-fpm.d",
            service: "php-fpm",
            socketDir: "/run/php-fpm",
            webUser: "nginx",
        },
        nginxSiteDir: "/etc/nginx/conf.d",
        packages: { postgresClient: "postgresql", pair: PAIR_PACKAGES, etcd: ETCD_PACKAGES, patroni: PATRONI_PACKAGES },
    },
};

/**
 * The oldest Patroni the library runs. Before 3.0.3, Patroni's etcd3 code could write the leader key
 * unconditionally: after a site cut, a former primary that still saw itself as leader in its cut-off
 * etcd member took the key back from the promoted replica and rewound it, dropping commits the
 * replica had acknowledged (Patroni PR 2689; the lab's site-isolation drill lost 73 to 83 values).
 */
export const PATRONI_MINIMUM_VERSION = "3.0.3";

/** Compares dotted version numbers ("3.0.10" > "3.0.3"); a negative result means a < b. */
export function compareVersions(a: string, b: string): number {
    const parts = (v: string) =>
        v
            .split(/[.+~-]/)
            .map(p => Number.parseInt(p, 10))
            .map(n => (Number.isNaN(n) ? 0 : n));
    const [x, y] = [parts(a), parts(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
        const d = (x[i] ?? 0) - (y[i] ?? 0);
        if (d !== 0) {
            return d;
        }
    }
    return 0;
}

export function platformFor(os: OsFamily): Platform {
    return PLATFORMS[os];
}

/** Where Patroni keeps its files on a platform (Debian's per-cluster unit and config). */
export function patroniLayout(platform: Platform): {
    readonly service: string;
    readonly config: string;
    readonly dataDir: string;
} {
    const instance = `${platform.postgres.version}-main`;
    return platform.packageManager === "apt"
        ? {
              service: `patroni@${instance}`,
              config: `/etc/patroni/${instance}.yml`,
              dataDir: `${posix.dirname(platform.postgres.dataDir)}/patroni`,
          }
        : { service: "patroni", config: "/etc/patroni/patroni.yml", dataDir: "/var/lib/pgsql/patroni" };
}

/** PostgreSQL's own port, the default of db.port and of a managed endpoint's cloud.database.port. */
export const POSTGRES_DEFAULT_PORT = 5432;

/** Where PostgreSQL puts its unix socket on Debian (and where local psql looks for it). */
export const POSTGRES_SOCKET_DIR = "/var/run/postgresql";

/** Where a Zabbix install keeps its files: the vendor's packages and Debian's differ. */
export interface ZabbixLayout {
    readonly serverPackages: readonly string[];
    readonly frontendPackages: readonly string[];
    readonly serverConfig: string;
    readonly serverService: string;
    readonly logFile: string;
    readonly pidFile: string;
    readonly socketDir: string;
    readonly frontendRoot: string;
    readonly frontendConfig: string;
    /** Schema files to load in order, gzip-compressed SQL. */
    readonly schemaFiles: readonly string[];
    /** The Zabbix proxy (SQLite) of a `proxy` host. */
    readonly proxy: ZabbixDaemonLayout;
    /** Zabbix agent 2 of an `agent` host. */
    readonly agent: ZabbixDaemonLayout;
}

/** Where one Zabbix daemon's package keeps its files, and the user it runs as. */
export interface ZabbixDaemonLayout {
    readonly packages: readonly string[];
    readonly config: string;
    readonly service: string;
    readonly logFile: string;
    readonly pidFile: string;
    /** The user the service runs as: its PSK file is readable by it alone. */
    readonly user: string;
}

/** The proxy (SQLite) and agent 2, the same names on every source; only the proxy's log directory differs. */
function dataPathLayouts(proxyLogDir: string): Pick<ZabbixLayout, "proxy" | "agent"> {
    const daemon = (program: string, pkg: string, service: string, logDir: string): ZabbixDaemonLayout => ({
        packages: [pkg],
        config: `/etc/zabbix/${program}.conf`,
        service,
        logFile: `${logDir}/${program}.log`,
        pidFile: `/run/zabbix/${program}.pid`,
        user: "zabbix",
    });
    return {
        proxy: daemon("zabbix_proxy", "zabbix-proxy-sqlite3", "zabbix-proxy", proxyLogDir),
        agent: daemon("zabbix_agent2", "zabbix-agent2", "zabbix-agent2", "/var/log/zabbix"),
    };
}

export function zabbixLayout(platform: Platform, source: PackageSource): ZabbixLayout {
    if (source === "vendor") {
        const web = platform.packageManager === "dnf" ? ["zabbix-web-pgsql"] : ["zabbix-frontend-php"];
        return {
            serverPackages: ["zabbix-server-pgsql", "zabbix-sql-scripts"],
            frontendPackages: web,
            serverConfig: "/etc/zabbix/zabbix_server.conf",
            serverService: "zabbix-server",
            logFile: "/var/log/zabbix/zabbix_server.log",
            pidFile: "/run/zabbix/zabbix_server.pid",
            socketDir: "/run/zabbix",
            frontendRoot: "/usr/share/zabbix",
            frontendConfig: "/etc/zabbix/web/zabbix.conf.php",
            schemaFiles: ["/usr/share/zabbix-sql-scripts/postgresql/server.sql.gz"],
            ...dataPathLayouts("/var/log/zabbix"),
        };
    }
    // Debian's own packaging (6.0 in Debian 12, 7.0 in Debian 13): split schema files and its own paths.
    return {
        serverPackages: ["zabbix-server-pgsql"],
        frontendPackages: ["zabbix-frontend-php"],
        serverConfig: "/etc/zabbix/zabbix_server.conf",
        serverService: "zabbix-server",
        logFile: "/var/log/zabbix-server/zabbix_server.log",
        pidFile: "/run/zabbix/zabbix_server.pid",
        socketDir: "/run/zabbix",
        frontendRoot: "/usr/share/zabbix",
        frontendConfig: "/etc/zabbix/zabbix.conf.php",
        schemaFiles: ["schema", "images", "data"].map(part => `/usr/share/zabbix-server-pgsql/${part}.sql.gz`),
        // Debian logs the proxy to a directory of its own; agent 2 to /var/log/zabbix, as the vendor does.
        ...dataPathLayouts("/var/log/zabbix-proxy"),
    };
}
