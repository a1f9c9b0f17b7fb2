import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { agentsUseTheirGroup, proxyGroupsSpanSites } from "./dataPath";
import { firewallSshNarrow, hostFirewallEnabled } from "./firewall";
import { drbdDedicatedMetaDisk, pacemakerFencing } from "./pacemaker";
import {
    dbFailoverWitness,
    haNodesSpanSites,
    noVipAcrossSites,
    replicasInOtherSites,
    siteLoadBalancers,
} from "./placement";
import { noPlaintextSecrets, randomPasswordLength } from "./secrets";
import { sshHostKeyPinned } from "./ssh";
import {
    agentServerLists,
    failoverDelayAdvisory,
    failoverDelayRange,
    serverHostHardware,
    sizingFitsLoad,
} from "./zabbix";

export * from "./dataPath";
export * from "./facts";
export * from "./firewall";
export * from "./pacemaker";
export * from "./placement";
export * from "./secrets";
export * from "./ssh";
export * from "./zabbix";

/** Every rule of the pack, in the order the design study motivates them. */
export const POLICIES: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [
    haNodesSpanSites,
    noVipAcrossSites,
    replicasInOtherSites,
    siteLoadBalancers,
    dbFailoverWitness,
    failoverDelayRange,
    failoverDelayAdvisory,
    agentServerLists,
    proxyGroupsSpanSites,
    agentsUseTheirGroup,
    noPlaintextSecrets,
    randomPasswordLength,
    sshHostKeyPinned,
    hostFirewallEnabled,
    firewallSshNarrow,
    pacemakerFencing,
    drbdDedicatedMetaDisk,
    sizingFitsLoad,
    serverHostHardware,
];
