// Entry point of the zabbix-ha Pulumi program (Pulumi.yaml `main`).
import { runStack } from "./program";

export = runStack();
