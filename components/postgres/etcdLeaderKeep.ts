/**
 * Keeps etcd's raft leader on a witness: the pure renderer of the keeper script
 * (etcd-leader-keep) and the rule of which witness runs it.
 *
 * Why: etcd's leader alone counts down lease TTLs, and a newly elected leader starts every lease
 * afresh (its full TTL plus an election timeout; etcd's lessor Promote, without lease
 * checkpointing). Patroni's leader key lives on such a lease. When the site that holds both the
 * primary and etcd's leader is lost, etcd first elects a new leader (an election timeout or two),
 * which then grants the dead primary's key another full ttl: the promotion came at 28 s instead
 * of Patroni's 14 to 20 (measured on the Patroni lab, ttl 17). A witness is never in a DB site, so
 * with etcd's leader there, losing a DB site elects no etcd leader and the dead key expires on time.
 *
 * etcd has no leader priority; the keeper moves leadership (`etcdctl move-leader`, a graceful
 * transfer) to its own member, but only when every member answers and serves a linearizable read
 * (which goes through the leader), and has for several polls: a transfer also restarts every lease,
 * so during an outage (a member, a site or Patroni's leader may be gone) it would postpone the very
 * failover it is meant to speed up.
 *
 * Lease checkpointing (`--experimental-enable-lease-checkpoint`) would make new leaders honour
 * the remaining TTLs instead, but it checkpoints every 5 minutes by default, is experimental, and
 * had fixes across the 3.4 and 3.5 lines the estate mixes (Debian 12 ships 3.4, Debian 13 3.5).
 */
import { LIBEXEC_DIR } from "../platform";
import { RENDERED_HEADER, shellQuote } from "../shell";
import { TlsFiles } from "./clusterTls";

/** Where the keeper is installed. */
export const ETCD_LEADER_KEEP_SCRIPT = `${LIBEXEC_DIR}/etcd-leader-keep`;

/** How often the keeper asks the members, and how many polls in a row every one must answer before it moves the leader. */
export const ETCD_LEADER_POLL_SECONDS = 2;
export const ETCD_LEADER_WHOLE_POLLS = 3;

/** The witness that keeps etcd's leader: the first by name (one keeper, so two never trade the lead). */
export function etcdLeaderKeeper(witnesses: readonly string[]): string | undefined {
    return [...witnesses].sort((a, b) => a.localeCompare(b))[0];
}

/**
 * `etcdctl endpoint status` (its simple output, etcd 3.4 and 3.5 alike), one line per member that
 * answers: endpoint, ID (hex), version, DB size, is leader, is learner, raft term, raft index,
 * applied index, errors. The simple output, not JSON: JSON gives the IDs as numbers beyond a
 * double's precision. The keeper reads these columns with awk ($1, $2, $5, $7); the drills and the
 * tests read them with this.
 */
export interface EtcdEndpointStatus {
    readonly endpoint: string;
    readonly id: string;
    readonly leader: boolean;
    readonly term: string;
}

export function parseEtcdEndpointStatus(output: string): EtcdEndpointStatus[] {
    return output
        .split("\n")
        .filter(line => line.includes(", "))
        .map(line => line.split(", "))
        .map(([endpoint, id, , , leader, , term]) => ({ endpoint, id, leader: leader === "true", term }));
}

/** What the keeper asks and where it moves the leader. */
export interface EtcdLeaderKeepInput {
    /** Every member's client URL. */
    readonly endpoints: readonly string[];
    /** This member's client URL, as it appears in `endpoints`. */
    readonly ownEndpoint: string;
    /** What etcdctl verifies the members against and presents (etcd asks every client for a certificate). */
    readonly tls: TlsFiles;
    /** Seconds between polls; the stack's default is ETCD_LEADER_POLL_SECONDS. */
    readonly pollSeconds?: number;
}

/** The keeper script: every poll, the members' status; the leader moves here once the cluster has been whole for a while. */
export function renderEtcdLeaderKeepScript(c: EtcdLeaderKeepInput): string {
    const poll = c.pollSeconds ?? ETCD_LEADER_POLL_SECONDS;
    return `#!/bin/sh
# ${RENDERED_HEADER}
# Keeps etcd's leader on this witness, so that losing a DB site elects no new etcd leader (which
# would restart every lease, Patroni's leader key among them, and postpone the failover by a ttl).
# It moves the leader only while every member has answered, and served a read through the leader,
# for ${ETCD_LEADER_WHOLE_POLLS} polls in a row.
set -u
ETCDCTL_API=3
# etcd asks every client for a certificate: this host's, verifying the members against the CA.
ETCDCTL_CACERT=${shellQuote(c.tls.caFile)}
ETCDCTL_CERT=${shellQuote(c.tls.certFile)}
ETCDCTL_KEY=${shellQuote(c.tls.keyFile)}
export ETCDCTL_API ETCDCTL_CACERT ETCDCTL_CERT ETCDCTL_KEY
ENDPOINTS=${shellQuote(c.endpoints.join(","))}
OWN=${shellQuote(c.ownEndpoint)}
MEMBERS=${c.endpoints.length}
whole=0
while sleep ${poll}; do
  # One line per member that answers (parseEtcdEndpointStatus): endpoint, ID, version, DB size, is leader, is learner, raft term, ...
  status=$(etcdctl --endpoints="$ENDPOINTS" --dial-timeout=1s --command-timeout=2s endpoint status 2>/dev/null)
  answered=$(printf '%s\\n' "$status" | grep -c ', ' || true)
  leader=$(printf '%s\\n' "$status" | awk -F', ' '$5 == "true" { print $1 }')
  terms=$(printf '%s\\n' "$status" | awk -F', ' 'NF > 6 { print $7 }' | sort -u | wc -l)
  own_id=$(printf '%s\\n' "$status" | awk -F', ' -v own="$OWN" '$1 == own { print $2 }')
  if [ "$answered" -ne "$MEMBERS" ] || [ "$terms" -ne 1 ] || [ -z "$leader" ] || [ -z "$own_id" ]; then
    whole=0
    continue
  fi
  # Answering is not enough: after a cut heals, a member can follow the leader for a minute while
  # what it sends back is lost. endpoint health reads through each member, which needs the leader.
  if ! etcdctl --endpoints="$ENDPOINTS" --dial-timeout=1s --command-timeout=2s endpoint health >/dev/null 2>&1; then
    whole=0
    continue
  fi
  whole=$((whole + 1))
  if [ "$leader" = "$OWN" ] || [ "$whole" -lt ${ETCD_LEADER_WHOLE_POLLS} ]; then
    continue
  fi
  echo "etcd's leader is $leader: moving it to this witness ($own_id)"
  # move-leader asks each given endpoint for its status and sends the transfer to the leader's.
  etcdctl --endpoints="$leader" --dial-timeout=1s --command-timeout=5s move-leader "$own_id" || true
  whole=0
done
`;
}
