/**
 * Pure step scripts of the DRBD + Pacemaker pair (POSIX sh bodies for Host.step). Each is safe to
 * run again, and none destroys data it did not make: meta data is created only where there is
 * none, the first sync and mkfs happen only while both copies are still blank, and the CIB is
 * loaded only when it changed and never while DRBD's fencing constraint protects a degraded pair.
 */
import { CONFIG_DIR, STATE_DIR } from "../platform";
import { putFile, putSecretFile, shellQuote } from "../shell";
import { DrbdVersion } from "./drbd";
import { FENCE_PASSWORD_FILE } from "./fencing";

/** Where the rendered CIB is kept on the preferred node, and the copy of what was last loaded. */
export const CIB_FILE = `${CONFIG_DIR}/pacemaker/cib.xml`;
export const CIB_LOADED = `${STATE_DIR}/pacemaker-cib.loaded.xml`;
export const COROSYNC_CONF = "/etc/corosync/corosync.conf";

export interface DrbdStepInput {
    /** This node's name: `uname -n` must print it. */
    readonly node: string;
    readonly resource: string;
    /** The Pacemaker primitive of the DRBD resource, to tell whether Pacemaker manages it yet. */
    readonly pacemakerId: string;
    /** The resource file rendered for each dialect; the step writes the one the kernel module reads. */
    readonly files: Readonly<Record<DrbdVersion, string>>;
    /** drbd-utils' configuration directory (tests point it elsewhere). */
    readonly confDir?: string;
    /** The kernel module's status file, whose first line names its version (tests point it elsewhere). */
    readonly procDrbd?: string;
}

/** Fails unless the host's name is the node name DRBD, corosync and Pacemaker use. */
function nodeNameCheck(node: string): string {
    return `if [ "$(uname -n)" != ${shellQuote(node)} ]; then
  echo "this host calls itself $(uname -n), but DRBD, corosync and Pacemaker know it as ${node}: set its host name" >&2
  exit 1
fi`;
}

/**
 * Per node: the resource file in the dialect of the loaded kernel module, meta data where there is
 * none, and the resource up (until Pacemaker takes it over; then a changed file is applied with adjust).
 */
export function drbdStep(s: DrbdStepInput): string {
    const res = shellQuote(s.resource);
    const path = `${s.confDir ?? "/etc/drbd.d"}/${s.resource}.res`;
    const proc = shellQuote(s.procDrbd ?? "/proc/drbd");
    return `${nodeNameCheck(s.node)}
[ -e ${proc} ] || modprobe drbd
# Debian 12's in-kernel module is 8.4; LINBIT's packages bring 9. drbd-utils parses the file as the module's version.
zha_kver=$(sed -n 's/^version: \\([0-9][0-9.]*\\).*/\\1/p' ${proc})
case "$zha_kver" in
  8.4.*) zha_dialect=8.4 ;;
  9.*) zha_dialect=9 ;;
  *) echo "DRBD kernel module version '$zha_kver' is neither 8.4 nor 9" >&2; exit 1 ;;
esac
echo "DRBD kernel module $zha_kver: the $zha_dialect form of ${path}"
if [ "$zha_dialect" = 8.4 ]; then
${putFile(path, s.files["8.4"], "0644", "root:root")}
else
${putFile(path, s.files["9"], "0644", "root:root")}
fi
drbdadm sh-nop
# Pacemaker starts DRBD; the boot-time service would race it.
if systemctl is-enabled --quiet drbd.service 2>/dev/null; then systemctl disable drbd.service; fi
zha_drbd_up() {
  case "$(drbdadm role ${res} 2>/dev/null)" in Primary*|Secondary*) return 0 ;; *) return 1 ;; esac
}
if zha_drbd_up; then
  if [ "$ZHA_CHANGED" = 1 ]; then drbdadm adjust ${res}; fi
elif crm_resource --resource ${shellQuote(s.pacemakerId)} --query-xml >/dev/null 2>&1; then
  echo "DRBD resource ${s.resource} is down here and Pacemaker manages it: left to Pacemaker"
else
  # Meta data only where there is none. create-md asks before overwriting anything it recognises
  # and, with no terminal to answer, gives up: a reused partition is for an operator to wipe.
  if ! zha_md=$(drbdadm dump-md ${res} 2>&1); then
    case "$zha_md" in
      *"No valid meta data found"*) drbdadm create-md ${res} </dev/null ;;
      *) printf '%s\\n' "$zha_md" >&2; echo "cannot read the DRBD meta data of ${s.resource}; not creating any" >&2; exit 1 ;;
    esac
  fi
  drbdadm up ${res}
fi`;
}

export interface ClusterStepInput {
    readonly node: string;
    readonly corosyncConf: string;
    /** Shell variable holding corosync's shared key (a secret read from stdin). */
    readonly keyVariable: string;
    /** Shell variable holding the fence password, when there is one. */
    readonly fencePasswordVariable?: string;
    /** Where the DRBD file system mounts; created on both nodes. */
    readonly mountPoint: string;
    /** systemd units Pacemaker starts: systemd must not start them at boot too. */
    readonly units: readonly string[];
    readonly keyFile: string;
}

/** Per node: corosync's key and configuration, the fence password, and corosync and Pacemaker running. */
export function clusterStep(s: ClusterStepInput): string {
    const units = s.units.map(shellQuote).join(" ");
    return [
        nodeNameCheck(s.node),
        putSecretFile(s.keyFile, s.keyVariable, "0400", "root:root"),
        putFile(COROSYNC_CONF, s.corosyncConf, "0644", "root:root"),
        s.fencePasswordVariable ? putSecretFile(FENCE_PASSWORD_FILE, s.fencePasswordVariable, "0600", "root:root") : "",
        `mkdir -p ${shellQuote(s.mountPoint)}`,
        `# Pacemaker starts these units where the DRBD file system is mounted; never systemd at boot.
for zha_unit in ${units}; do
  if systemctl is-enabled --quiet "$zha_unit" 2>/dev/null; then systemctl disable "$zha_unit"; fi
  # Debian starts its PostgreSQL clusters through a generator that reads start.conf, not the unit links.
  case "$zha_unit" in
    postgresql@*-*)
      zha_pg=\${zha_unit#postgresql@}
      zha_start_conf="/etc/postgresql/\${zha_pg%%-*}/\${zha_pg#*-}/start.conf"
      if [ -f "$zha_start_conf" ] && grep -qx auto "$zha_start_conf"; then echo manual > "$zha_start_conf"; fi
      ;;
  esac
done`,
        "systemctl enable corosync pacemaker",
        `if ! systemctl is-active --quiet corosync; then
  systemctl start corosync
elif [ "$ZHA_CHANGED" = 1 ]; then
  # A running cluster reloads what it can; a new key or transport needs a rolling restart by hand.
  corosync-cfgtool -R
fi
systemctl is-active --quiet pacemaker || systemctl start pacemaker`,
    ]
        .filter(Boolean)
        .join("\n");
}

export interface InitialSyncStepInput {
    readonly resource: string;
    readonly device: string;
    readonly fsType: "ext4" | "xfs";
    /** How long to wait for the peer to connect on a first start, in seconds. */
    readonly connectTimeout?: number;
}

/**
 * On the preferred node: the first start only. While both copies are Inconsistent (fresh meta data
 * on both nodes) this node becomes the sync source, and the device gets a file system if it has
 * none. Any other state (a copy is UpToDate, or the peer is away) is DRBD's to resync: nothing here.
 */
export function initialSyncStep(s: InitialSyncStepInput): string {
    const res = shellQuote(s.resource);
    const dev = shellQuote(s.device);
    return `zha_dstate() { drbdadm dstate ${res} 2>/dev/null || true; }
zha_connected() { [ "$(drbdadm cstate ${res} 2>/dev/null)" = Connected ]; }
case "$(zha_dstate)" in
  Inconsistent/*)
    # This copy was never UpToDate: a first start if the peer's was not either, else a resync to come.
    zha_retry ${s.connectTimeout ?? 300} zha_connected
    if [ "$(zha_dstate)" = Inconsistent/Inconsistent ]; then
      echo "first start of DRBD resource ${s.resource}: this node is the sync source"
      drbdadm primary --force ${res}
      zha_probe=0
      blkid -p ${dev} >/dev/null 2>&1 || zha_probe=$?
      case "$zha_probe" in
        0) echo "${s.device} already holds data (blkid found a signature): kept as it is" ;;
        2) mkfs.${s.fsType} -q ${dev} ;;
        *) drbdadm secondary ${res}; echo "blkid could not probe ${s.device} (exit $zha_probe): not formatting" >&2; exit 1 ;;
      esac
      drbdadm secondary ${res}
    else
      echo "DRBD resource ${s.resource}: $(zha_dstate); the peer holds data, DRBD resyncs from it"
    fi
    ;;
  *) echo "DRBD resource ${s.resource}: $(zha_dstate); no first sync needed" ;;
esac`;
}

export interface CibLoadStepInput {
    /** The whole rendered CIB document. */
    readonly cib: string;
    readonly file?: string;
    readonly loaded?: string;
    /** How long to wait for the CIB to answer, in seconds. */
    readonly waitSeconds?: number;
}

/**
 * On the preferred node: loads the rendered CIB's configuration section when it differs from the
 * last one loaded. Only the configuration is replaced (as `pcs cluster cib-push --config` does):
 * the status section and its epoch stay the cluster's own.
 */
export function cibLoadStep(s: CibLoadStepInput): string {
    const file = shellQuote(s.file ?? CIB_FILE);
    const loaded = s.loaded ?? CIB_LOADED;
    if (!/^ {2}<configuration>$/m.test(s.cib) || !/^ {2}<\/configuration>$/m.test(s.cib)) {
        throw new Error("the CIB must have <configuration> and </configuration> on lines of their own");
    }
    return `${putFile(s.file ?? CIB_FILE, s.cib, "0644", "root:root")}
zha_retry ${s.waitSeconds ?? 120} cibadmin --query --scope configuration >/dev/null
if cmp -s ${file} ${shellQuote(loaded)}; then
  echo "Pacemaker configuration unchanged"
else
  crm_verify --xml-file ${file}
  if cibadmin --query --scope constraints | grep -q 'drbd-fence-by-handler'; then
    echo "DRBD has fenced its peer (a drbd-fence-by-handler constraint is in place): not replacing the configuration before the peer has resynced" >&2
    exit 1
  fi
  # role="Promoted" needs schema pacemaker-3.7: upgrade an older cluster's CIB first.
  zha_schema=$(cibadmin --query | sed -n '1s/.* validate-with="\\([^"]*\\)".*/\\1/p')
  case "$zha_schema" in
    pacemaker-[0-2].*|pacemaker-3.[0-6]) cibadmin --upgrade --force ;;
  esac
  zha_conf=$(mktemp)
  sed -n '/^  <configuration>$/,/^  <\\/configuration>$/p' ${file} > "$zha_conf"
  cibadmin --replace --scope configuration --xml-file "$zha_conf"
  rm -f "$zha_conf"
  mkdir -p ${shellQuote(loaded.slice(0, loaded.lastIndexOf("/")) || "/")}
  cp ${file} ${shellQuote(loaded)}
  echo "loaded the Pacemaker configuration"
fi`;
}
