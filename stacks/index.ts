// Entry point of the zabbix-ha Pulumi program (Pulumi.yaml `main`); Pulumi awaits the exported promise
// and takes what it resolves to as the stack's outputs.
import { runStack } from "./program";

export = runStack();
