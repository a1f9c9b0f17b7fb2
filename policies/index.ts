// The policy pack's entry: `pulumi preview --policy-pack policies`. Constructing the pack starts the
// analyzer's gRPC server, so tests and tools import ./rules and ./harness instead.
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./rules";

new PolicyPack("zabbix-ha", { policies: [...POLICIES] });
