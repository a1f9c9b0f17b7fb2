/**
 * etcd's settings for one member of the cluster-wide etcd that Patroni elects its leader through
 * (/etc/default/etcd), a pure renderer. One member runs on every DB host and witness host, across
 * three or more sites.
 */
import { RENDERED_HEADER_NO_BACKTICKS } from "../shell";

/** Where etcd's Debian unit reads its settings. */
export const ETCD_ENVIRONMENT_FILE = "/etc/default/etcd";
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
export const ETCD_DATA_DIR = "/var/lib/etcd/zabbix-ha";
/** Elections across sites: a heartbeat of 250 ms and an election after 2.5 s tolerate WAN jitter. */
export const ETCD_HEARTBEAT_MS = 250;
export const ETCD_ELECTION_TIMEOUT_MS = 2500;

/** One etcd member: its name (the host's) and address. */
export interface EtcdMember {
    readonly name: string;
    readonly address: string;
}

/** Where etcd listens and keeps its data; the defaults are what the stack deploys (tests pick free ports). */
export interface EtcdOptions {
    readonly clientPort?: number;
    readonly peerPort?: number;
    readonly dataDir?: string;
}

/** /etc/default/etcd for one member of the cluster-wide etcd. */
export function renderEtcdEnvironment(
    member: EtcdMember,
    members: readonly EtcdMember[],
    clusterToken: string,
    options: EtcdOptions = {},
): string {
    const clientPort = options.clientPort ?? ETCD_CLIENT_PORT;
    const peer = (m: EtcdMember) => `http://${m.address}:${options.peerPort ?? ETCD_PEER_PORT}`;
    return `# ${RENDERED_HEADER_NO_BACKTICKS}
ETCD_NAME="${member.name}"
ETCD_DATA_DIR="${options.dataDir ?? ETCD_DATA_DIR}"
ETCD_LISTEN_PEER_URLS="${peer(member)}"
ETCD_LISTEN_CLIENT_URLS="http://${member.address}:${clientPort},http://127.0.0.1:${clientPort}"
ETCD_INITIAL_ADVERTISE_PEER_URLS="${peer(member)}"
ETCD_ADVERTISE_CLIENT_URLS="http://${member.address}:${clientPort}"
ETCD_INITIAL_CLUSTER="${members.map(m => `${m.name}=${peer(m)}`).join(",")}"
ETCD_INITIAL_CLUSTER_STATE="new"
ETCD_INITIAL_CLUSTER_TOKEN="${clusterToken}"
# Elections across sites: a heartbeat of ${ETCD_HEARTBEAT_MS} ms and an election after ${ETCD_ELECTION_TIMEOUT_MS / 1000} s tolerate WAN jitter.
ETCD_HEARTBEAT_INTERVAL="${ETCD_HEARTBEAT_MS}"
ETCD_ELECTION_TIMEOUT="${ETCD_ELECTION_TIMEOUT_MS}"
# A member that was cut off kept calling elections; without pre-vote its higher term deposes the
# leader when it comes back, etcd answers nothing for seconds, and Patroni demotes a healthy primary.
ETCD_PRE_VOTE="true"
`;
}
