/**
 * Helpers for the real-tool checks: every artifact the library renders is handed to the Debian 12
 * program that will read it in production. No mocks: a missing program is a failure that names
 * its package, scratch servers live in temp dirs on loopback, and everything started is stopped.
 *
 * Adding a check for a new artifact (a Pacemaker CIB, a DRBD resource file) takes a few lines:
 *   1. name the program's package in TOOL_PACKAGES (tools.ts, and in .ci/debian-packages);
 *   2. describe the check as a FileCheck (how to call the program, what it prints when it accepts);
 *   3. in a test, `expectAccepted(await checkFile(CHECK, rendered))` and
 *      `expectRejected(await checkFile(CHECK, broken), /what it says/)`.
 * For example, crm_verify exits 0 on recoverable problems, so its FileCheck would be
 *   { tool: "crm_verify", fileName: "cib.xml", args: f => ["--xml-file", f, "-V"], accepted: out => out.trim() === "" }
 *
 * tools.ts: packages and lookups; processes.ts: programs and daemons; scratch.ts: temp dirs and
 * files; file-checks.ts: a file checked by its program; postgres.ts: scratch clusters;
 * network.ts: ports, relays, HAProxy's stats; loopback.ts: the loopback DB setup checks share.
 * Imported on their own (they build on the lab's image code): debian13.ts, the cached Debian 13 root
 * with Zabbix 7.0 and its sessions; chroot.ts, programs of such a root run under chroot.
 */
export {
    FILE_PACKAGES,
    PG_BIN,
    PHP_EXTENSION_PACKAGES,
    TOOL_PACKAGES,
    requireFile,
    requireTool,
    userInfo,
} from "./tools";
export {
    Daemon,
    RunOptions,
    RunResult,
    groupAlive,
    ok,
    requirePhpExtension,
    run,
    sleep,
    startDaemon,
    waitFor,
} from "./processes";
export { Scratch, nginxPrefixArgs, putFile, scratchSpace, writeNginxPrefix, writePhpFpmConf } from "./scratch";
export { CheckResult, FileCheck, checkFile, expectAccepted, expectRejected } from "./file-checks";
export { PgServer, basebackup, includeInPostgresConf, initPostgres, password, psqlTcp } from "./postgres";
export { freePort, relayFrom, serverStatus } from "./network";
export {
    LoopbackPair,
    askThroughBalancer,
    installPrimaryCheck,
    loopbackBalancerUi,
    loopbackHbaRules,
    loopbackPair,
    replicationCommand,
} from "./loopback";
export { TEST_PKI_IPS, TestPki, testPki } from "./pki";
