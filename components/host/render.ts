/**
 * The base step of a host: package sources and packages for its roles, for Debian/Ubuntu (apt)
 * and the RHEL 9 family (dnf). Pure: config in, script text out.
 */
import { AptRepository, PackageSource, Role, ZABBIX_PACKAGE_ROLES, ZabbixVersion } from "../config/types";
import { NGINX_DEFAULT_SITE, Platform, STATE_DIR, platformFor, zabbixLayout } from "../platform";
import { OsFamily } from "../config/types";
import { shellQuote } from "../shell";

export interface PackageStepInput {
    readonly os: OsFamily;
    readonly roles: readonly Role[];
    readonly zabbixVersion: ZabbixVersion;
    readonly packageSource: PackageSource;
    /** Base URL of the vendor's repository or a mirror of it (vendor source only). */
    readonly repositoryUrl?: string;
    /** SHA-256 of the vendor's zabbix-release package for this host's OS (vendor source only). */
    readonly releasePackageSha256?: string;
    /** Packages a pattern adds beyond the roles' (a cluster manager, the config sync's tools). */
    readonly extraPackages?: readonly string[];
    /** apt repositories a pattern adds before installing (a newer Patroni than the distribution's). */
    readonly extraRepositories?: readonly ExtraRepository[];
    /** The host loads the host firewall, whose tables nft manages. */
    readonly firewall?: boolean;
}

/** The package of nft, the same name on every supported OS. */
export const FIREWALL_PACKAGE = "nftables";

/** An apt source added on a host, and the packages that must come at their newest from it. */
export interface ExtraRepository {
    /** Names the source and key files: /etc/apt/sources.list.d/zabbix-ha-<name>.list. */
    readonly name: string;
    readonly repository: AptRepository;
    /** Installed, or upgraded when the source is added or changes, at the newest version apt sees. */
    readonly packages: readonly string[];
}

/** Marks an extra repository whose packages have yet to install from it (`*`: every such mark). */
function pendingRepositoryMark(name: string): string {
    return `${STATE_DIR}/repository-${name}.pending`;
}

/** Where an extra repository's signing key lives on the host. */
function keyringOf(name: string): string {
    return `/etc/apt/keyrings/zabbix-ha-${name}.asc`;
}

/** The sources.list line of an extra repository, signed by its own key file unless trusted. */
export function aptSourceLine(name: string, repository: AptRepository): string {
    const option = repository.trusted ? "trusted=yes" : `signed-by=${keyringOf(name)}`;
    return ["deb", `[${option}]`, repository.url, repository.suite, ...repository.components].join(" ");
}

/**
 * Script lines that add extra apt sources (and their keys). When a source is new or changed, the
 * packages that must come from it are installed or upgraded: a host that already had the
 * distribution's older version moves to the repository's.
 */
function extraRepositorySteps(extras: readonly ExtraRepository[]): string {
    return extras
        .map(extra => {
            const list = `/etc/apt/sources.list.d/zabbix-ha-${extra.name}.list`;
            const pending = pendingRepositoryMark(extra.name);
            const key = extra.repository.keyUrl
                ? `install -d -m 0755 /etc/apt/keyrings
zha_key=$(mktemp)
curl -fsSL -o "$zha_key" ${shellQuote(extra.repository.keyUrl)}
if ! cmp -s "$zha_key" ${keyringOf(extra.name)}; then
  install -m 0644 "$zha_key" ${keyringOf(extra.name)}
  zha_apt_update=1
fi
rm -f "$zha_key"
`
                : "";
            return `# Repository ${extra.name}: ${extra.packages.join(", ")} at their newest from it.
${key}zha_line=${shellQuote(aptSourceLine(extra.name, extra.repository))}
if [ "$(cat ${list} 2>/dev/null)" != "$zha_line" ]; then
  printf '%s\\n' "$zha_line" > ${list}
  # Kept until the packages below install, so a run that fails half-way upgrades them next time.
  install -d -m 0755 ${STATE_DIR} && : > ${pending}
fi
if [ -e ${pending} ]; then
  zha_apt_update=1
  zha_newest="$zha_newest ${extra.packages.join(" ")}"
fi`;
        })
        .join("\n");
}

/** Packages a host needs for its roles on its OS, sorted and without repeats. */
export function packagesFor(input: PackageStepInput): string[] {
    const platform = platformFor(input.os);
    const zabbix = zabbixLayout(platform, input.packageSource);
    // openssl: the TLS step checks each host's key against its certificate and the CA.
    const wanted = new Set<string>([
        "ca-certificates",
        "curl",
        "openssl",
        ...(input.extraPackages ?? []),
        ...(input.firewall ? [FIREWALL_PACKAGE] : []),
    ]);
    const add = (names: readonly string[]) => names.forEach(n => wanted.add(n));
    for (const role of input.roles) {
        switch (role) {
            case "db":
                add(platform.postgres.packages);
                break;
            case "zabbix-server":
                add([...zabbix.serverPackages, platform.packages.postgresClient]);
                break;
            // jq: a frontend host may run the Zabbix objects step, an API client in sh, curl and jq.
            case "frontend":
                add(["jq", "nginx", ...platform.phpFpm.packages, ...zabbix.frontendPackages]);
                break;
            // socat: the newest-primary watcher talks to HAProxy's admin socket.
            case "lb":
                add(["haproxy", platform.packages.postgresClient, "socat"]);
                break;
            case "proxy":
                add(zabbix.proxy.packages);
                break;
            case "agent":
                add(zabbix.agent.packages);
                break;
            case "witness":
                break;
        }
    }
    return [...wanted].sort();
}

function needsZabbixPackages(roles: readonly Role[]): boolean {
    return roles.some(role => ZABBIX_PACKAGE_ROLES.includes(role));
}

/**
 * Script lines that stop the step unless the file in shell variable `fileVariable` has SHA-256
 * `sha256` (sha256sum -c), removing it first: the release package is installed as root and brings
 * the repository's signing key, so nothing of a package that does not match may run.
 */
export function releasePackageCheck(fileVariable: string, sha256: string, url: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
        throw new Error(`the release package checksum must be 64 lower-case hex digits, not ${JSON.stringify(sha256)}`);
    }
    return `if ! printf '%s  %s\\n' ${sha256} "$${fileVariable}" | sha256sum -c --status -; then
  echo "the zabbix-release package from "${shellQuote(url)}" has SHA-256 $(sha256sum < "$${fileVariable}" | cut -c1-64), not ${sha256} (zabbix.releasePackageSha256): not installed" >&2
  rm -f "$${fileVariable}"
  exit 1
fi`;
}

/** Script lines that add the vendor's Zabbix repository, pointed at the configured base URL. */
function vendorRepositorySteps(platform: Platform, version: ZabbixVersion, baseUrl: string, sha256: string): string {
    const base = baseUrl.replace(/\/+$/, "");
    const d = platform.vendorDistro;
    // The release package points at the vendor's own host; rewrite to the configured base so a mirror works too.
    const rewrite = (files: string) => `sed -i -E ${shellQuote(`s#https?://[^ ]*/zabbix/#${base}/zabbix/#`)} ${files}`;
    if (platform.packageManager === "apt") {
        const deb = `${base}/zabbix/${version}/${d.name}/pool/main/z/zabbix-release/zabbix-release_latest_${version}+${d.name}${d.release}_all.deb`;
        return `if ! dpkg-query -W -f='\${Status}' zabbix-release 2>/dev/null | grep -q 'ok installed'; then
  zha_deb=$(mktemp --suffix=.deb)
  curl -fsSL -o "$zha_deb" ${shellQuote(deb)}
  ${releasePackageCheck("zha_deb", sha256, deb).replace(/\n/g, "\n  ")}
  dpkg -i "$zha_deb"
  rm -f "$zha_deb"
  ${rewrite("/etc/apt/sources.list.d/zabbix*.list")}
  zha_apt_update=1
fi`;
    }
    const rpm = `${base}/zabbix/${version}/rhel/${d.release}/x86_64/zabbix-release-latest-${version}.el${d.release}.noarch.rpm`;
    return `if ! rpm -q zabbix-release >/dev/null 2>&1; then
  zha_rpm=$(mktemp --suffix=.rpm)
  curl -fsSL -o "$zha_rpm" ${shellQuote(rpm)}
  ${releasePackageCheck("zha_rpm", sha256, rpm).replace(/\n/g, "\n  ")}
  rpm -Uvh "$zha_rpm"
  rm -f "$zha_rpm"
  ${rewrite("/etc/yum.repos.d/zabbix*.repo")}
fi
# EPEL's Zabbix packages would shadow the vendor's.
if [ -f /etc/yum.repos.d/epel.repo ] && ! grep -q '^excludepkgs=zabbix\\*' /etc/yum.repos.d/epel.repo; then
  sed -i '/^\\[epel\\]/a excludepkgs=zabbix*' /etc/yum.repos.d/epel.repo
fi`;
}

/**
 * nginx's postinst starts the distribution's default site on port 80, where a co-located load
 * balancer binds HAProxy in its own step, which runs before the frontend's: free the port as soon
 * as nginx is installed (the frontend step would be too late).
 */
const DISABLE_NGINX_DEFAULT_SITE = `
if [ -e ${NGINX_DEFAULT_SITE} ]; then
  rm -f ${NGINX_DEFAULT_SITE}
  if systemctl is-active --quiet nginx; then systemctl restart nginx; fi
fi`;

/** The package step: idempotent, touching the network only when something is missing. */
export function renderPackageStep(input: PackageStepInput): string {
    const platform = platformFor(input.os);
    const packages = packagesFor(input);
    const list = packages.join(" ");
    const vendor = input.packageSource === "vendor" && needsZabbixPackages(input.roles);
    if (vendor && !input.repositoryUrl) {
        throw new Error("the vendor package source needs a repository URL");
    }
    if (vendor && !input.releasePackageSha256) {
        throw new Error(`the vendor package source needs the release package's SHA-256 for ${platform.label}`);
    }
    const extras = input.extraRepositories ?? [];
    if (extras.length > 0 && platform.packageManager !== "apt") {
        throw new Error(
            `extra repositories are apt sources; ${platform.label} installs with ${platform.packageManager}`,
        );
    }
    const repo = [
        vendor
            ? vendorRepositorySteps(platform, input.zabbixVersion, input.repositoryUrl!, input.releasePackageSha256!)
            : "",
        extraRepositorySteps(extras),
    ]
        .filter(Boolean)
        .join("\n");
    const needsCurl = vendor || extras.some(e => e.repository.keyUrl);
    if (platform.packageManager === "apt") {
        return `# Packages for roles: ${input.roles.join(", ")} (${platform.label}).
export DEBIAN_FRONTEND=noninteractive
zha_apt_update=0
zha_newest=""
${needsCurl ? "command -v curl >/dev/null 2>&1 || { apt-get update -q; apt-get install -y -q --no-install-recommends curl ca-certificates; }\n" : ""}${repo}
zha_missing=""
for zha_pkg in ${list}; do
  dpkg-query -W -f='\${Status}' "$zha_pkg" 2>/dev/null | grep -q 'ok installed' || zha_missing="$zha_missing $zha_pkg"
done
if [ -n "$zha_missing$zha_newest" ]; then
  echo "installing:$zha_missing$zha_newest"
  apt-get update -q
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  apt-get install -y -q --no-install-recommends $zha_missing $zha_newest
  rm -f ${pendingRepositoryMark("*")}
elif [ "$zha_apt_update" = 1 ]; then
  apt-get update -q
fi${input.roles.includes("frontend") ? DISABLE_NGINX_DEFAULT_SITE : ""}`;
    }
    return `# Packages for roles: ${input.roles.join(", ")} (${platform.label}).
${repo}
zha_missing=""
for zha_pkg in ${list}; do
  rpm -q "$zha_pkg" >/dev/null 2>&1 || zha_missing="$zha_missing $zha_pkg"
done
if [ -n "$zha_missing" ]; then
  echo "installing:$zha_missing"
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  dnf -y -q install $zha_missing
fi`;
}
