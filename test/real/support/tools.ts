/**
 * Tool requirements of the real-tool checks: the Debian 12 package of every program and file they
 * use, and lookups that fail naming the package to install when something is missing.
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";

/** Directory of PostgreSQL 15's server and client programs on Debian 12. */
export const PG_BIN = "/usr/lib/postgresql/15/bin";

/**
 * The Debian 12 package of every program the checks run. A check that cannot find its program
 * fails with `apt-get install` of the package named here; .ci/debian-packages must list each one
 * (packages.test.ts holds the two lists together).
 */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
    haproxy: "haproxy",
    nginx: "nginx",
    php: "php-cli",
    "php-fpm8.2": "php-fpm",
    shellcheck: "shellcheck",
    zabbix_server: "zabbix-server-pgsql",
    initdb: "postgresql-15",
    pg_ctl: "postgresql-15",
    psql: "postgresql-client-15",
    pg_basebackup: "postgresql-client-15",
    etcd: "etcd-server",
    etcdctl: "etcd-client",
    patroni: "patroni",
    patronictl: "patroni",
    pg_dump: "postgresql-client-15",
    pg_restore: "postgresql-client-15",
    // Pattern 2's configuration sync script, its units, and the frontends it talks to.
    jq: "jq",
    curl: "curl",
    "systemd-analyze": "systemd",
    unshare: "util-linux",
    mount: "mount",
    umount: "mount",
    // The Debian 13 root (debian13.ts): debootstrap'd and indexed as the lab's base, entered by chroot.
    debootstrap: "debootstrap",
    "apt-ftparchive": "apt-utils",
    chroot: "coreutils",
    cp: "coreutils",
    // The host firewall's rulesets, checked (and loaded) in a network namespace of their own.
    nft: "nftables",
    // Essential on Debian, so always there; listed so a check can require it like any other.
    sh: "dash",
};

/** Files (not programs) the checks read, with the package that ships them. */
export const FILE_PACKAGES: Readonly<Record<string, string>> = {
    "/etc/nginx/fastcgi_params": "nginx",
    "/usr/share/zabbix/include/classes/core/CConfigFile.php": "zabbix-frontend-php",
    "/usr/share/zabbix-server-pgsql/schema.sql.gz": "zabbix-server-pgsql",
    "/usr/share/zabbix-server-pgsql/images.sql.gz": "zabbix-server-pgsql",
    "/usr/share/zabbix-server-pgsql/data.sql.gz": "zabbix-server-pgsql",
    // Patroni's etcd3 client is built on python-etcd; patroni depends on it or any other DCS client library.
    "/usr/lib/python3/dist-packages/etcd/__init__.py": "python3-etcd",
};

/** PHP extensions the checks need, with their package. */
export const PHP_EXTENSION_PACKAGES: Readonly<Record<string, string>> = {
    pgsql: "php-pgsql",
};

/** The `apt-get install` hint for a missing program, file or extension. */
export function installHint(what: string, pkg: string | undefined): string {
    return `${what} not found: apt-get install --no-install-recommends ${pkg ?? "(no package known: add it to TOOL_PACKAGES in test/real/support/tools.ts)"}`;
}

/** Absolute path of a program; throws naming the Debian package when it is missing. */
export function requireTool(name: string): string {
    const dirs = [PG_BIN, ...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
    // PostgreSQL's programs come from PG_BIN only: /usr/bin/psql is a wrapper that picks a version.
    const search = name in TOOL_PACKAGES && TOOL_PACKAGES[name].startsWith("postgresql-") ? [PG_BIN] : dirs;
    for (const dir of search.filter(Boolean)) {
        const candidate = path.join(dir, name);
        if (existsSync(candidate)) {
            return candidate;
        }
    }
    throw new Error(installHint(name, TOOL_PACKAGES[name]));
}

/** Throws naming the Debian package when a file the checks read is missing. */
export function requireFile(file: string): string {
    if (!existsSync(file)) {
        throw new Error(installHint(file, FILE_PACKAGES[file]));
    }
    return file;
}

/** uid, gid and home of a local user (postgres, zabbix, www-data). */
export function userInfo(name: string): { uid: number; gid: number; home: string } {
    const line = readFileSync("/etc/passwd", "utf8")
        .split("\n")
        .find(l => l.startsWith(`${name}:`));
    if (!line) {
        throw new Error(
            `user ${name} does not exist; its package creates it (see TOOL_PACKAGES in test/real/support/tools.ts)`,
        );
    }
    const [, , uid, gid, , home] = line.split(":");
    return { uid: Number(uid), gid: Number(gid), home };
}
