/**
 * etcd's settings for one member of the cluster-wide etcd that Patroni elects its leader through
 * (/etc/default/etcd), a pure renderer. One member runs on every DB host and witness host, across
 * three or more sites.
 */
import { RENDERED_HEADER_NO_BACKTICKS } from "../shell";
import { ETCD_TLS, TlsFiles } from "./clusterTls";

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
    /** The member's CA, certificate and key (ETCD_TLS by default: the host's, etcd's copy of the key). */
    readonly tls?: TlsFiles;
}

/** Every client and peer URL is https: etcd serves TLS only, and asks every client and peer for a certificate. */
export const ETCD_SCHEME = "https";

/** /etc/default/etcd for one member of the cluster-wide etcd. */
export function renderEtcdEnvironment(
    member: EtcdMember,
    members: readonly EtcdMember[],
    clusterToken: string,
    options: EtcdOptions = {},
): string {
    const clientPort = options.clientPort ?? ETCD_CLIENT_PORT;
    const tls = options.tls ?? ETCD_TLS;
    const peer = (m: EtcdMember) => `${ETCD_SCHEME}://${m.address}:${options.peerPort ?? ETCD_PEER_PORT}`;
    const client = (address: string) => `${ETCD_SCHEME}://${address}:${clientPort}`;
    return `# ${RENDERED_HEADER_NO_BACKTICKS}
ETCD_NAME="${member.name}"
ETCD_DATA_DIR="${options.dataDir ?? ETCD_DATA_DIR}"
ETCD_LISTEN_PEER_URLS="${peer(member)}"
ETCD_LISTEN_CLIENT_URLS="${client(member.address)},${client("127.0.0.1")}"
ETCD_INITIAL_ADVERTISE_PEER_URLS="${peer(member)}"
ETCD_ADVERTISE_CLIENT_URLS="${client(member.address)}"
ETCD_INITIAL_CLUSTER="${members.map(m => `${m.name}=${peer(m)}`).join(",")}"
ETCD_INITIAL_CLUSTER_STATE="new"
ETCD_INITIAL_CLUSTER_TOKEN="${clusterToken}"
# Clients (Patroni, etcdctl) and peers alike present a certificate of the stack's CA: anyone else
# who reaches these ports gets no session, so cannot read or write Patroni's leader key.
ETCD_CERT_FILE="${tls.certFile}"
ETCD_KEY_FILE="${tls.keyFile}"
ETCD_TRUSTED_CA_FILE="${tls.caFile}"
ETCD_CLIENT_CERT_AUTH="true"
ETCD_PEER_CERT_FILE="${tls.certFile}"
ETCD_PEER_KEY_FILE="${tls.keyFile}"
ETCD_PEER_TRUSTED_CA_FILE="${tls.caFile}"
ETCD_PEER_CLIENT_CERT_AUTH="true"
# Elections across sites: a heartbeat of ${ETCD_HEARTBEAT_MS} ms and an election after ${ETCD_ELECTION_TIMEOUT_MS / 1000} s tolerate WAN jitter.
ETCD_HEARTBEAT_INTERVAL="${ETCD_HEARTBEAT_MS}"
ETCD_ELECTION_TIMEOUT="${ETCD_ELECTION_TIMEOUT_MS}"
# A member that was cut off kept calling elections; without pre-vote its higher term deposes the
# leader when it comes back, etcd answers nothing for seconds, and Patroni demotes a healthy primary.
ETCD_PRE_VOTE="true"
`;
}
