/**
 * What a drill knows about the running lab: the state file's records (hosts, PIDs), the lab's
 * shape from the config it was built from, and the applied plan as `up` and `apply` kept it (the
 * stack's outputs: `topology`, the model's timings; the resources per URN, whose inputs hold the
 * logins the plan set up), which a new plan could not give back since every plan generates new
 * passwords.
 */
import { existsSync } from "fs";
import { ZabbixLayout, patroniLayout, platformFor, zabbixLayout } from "../../../components/platform";
import { SUPER_ADMIN_USER } from "../../../components/zabbix/superAdmin";
import { DEFAULT_TIMINGS, Timings, Topology as ModelTopology } from "../../../model";
import { readEnvironment } from "../../offline";
import {
    CachePaths,
    HostRecord,
    LabHost,
    LabState,
    PgConnection,
    RunResult,
    StateFile,
    Topology,
    sshRun,
    topologyOf,
} from "../machines";
import { tlsOf } from "../checks/instances";
import { Login, instanceDatabases, stackOutputs, superAdminPassword } from "../replay";

export interface DrillLab {
    readonly paths: CachePaths;
    readonly stateFile: StateFile;
    readonly state: LabState;
    readonly topo: Topology;
    /** The stack's own description of what it built (plan output `topology`), as the model reads it. */
    readonly model: ModelTopology;
    readonly timings: Timings;
    readonly failover: "manual" | "patroni";
    readonly servers: readonly LabHost[];
    readonly dbHosts: readonly LabHost[];
    readonly loadBalancers: readonly LabHost[];
    /** The zabbix role's password, as the plan set it. */
    readonly zabbixPassword: string;
    /** How the stack's provider secures its session (verify-full and the stack's CA): the drills connect alike. */
    readonly dbTls: Pick<PgConnection, "sslmode" | "sslrootcert">;
    /** The PostgreSQL provider's login (the admin role): what the program creates the database with. */
    readonly admin: Login;
    /** The Zabbix API's login: Admin with the Super Admin password the plan generated (its secret output). */
    readonly zabbixApi: Login;
    /** The stack's CA (PEM, its `caCertificate` output): the UI's HTTPS certificate must verify against it. */
    readonly uiCa: string;
}

/** The running lab; `nativeHa`: refuse one without a native-HA cluster (the fault drills need one). */
export function loadLab(paths: CachePaths, nativeHa = true): DrillLab {
    const stateFile = new StateFile(paths.state);
    const state = stateFile.read();
    if (!state) {
        throw new Error(
            `no lab recorded in ${paths.state}: run \`npm run lab -- up --config lab/Pulumi.lab-patroni.yaml\` first`,
        );
    }
    if (!state.deployed || !state.facts || !state.stack) {
        throw new Error(
            "the recorded lab was not deployed by this version of `up` (no plan facts in its state): run `npm run lab -- up` again",
        );
    }
    if (!existsSync(state.configFile)) {
        throw new Error(`the lab's config ${state.configFile} is gone; the drills read the lab's shape from it`);
    }
    const topo = topologyOf(readEnvironment(state.configFile));
    const outputs = stackOutputs(state.facts.outputs);
    const model = outputs.topology;
    if (!model || model.instances.length !== 1 || (nativeHa && model.instances[0].serverFailover !== "native-ha")) {
        throw new Error(
            "the drills need one Zabbix installation with native HA (pattern zabbix-ha); this lab has " +
                (model
                    ? `${model.instances.length} installation(s), server failover ${model.instances.map(i => i.serverFailover).join(", ")}`
                    : "no topology output"),
        );
    }
    const instance = model.instances[0];
    const host = (name: string) => {
        const found = topo.hosts.find(h => h.name === name);
        if (!found) {
            throw new Error(`the stack's topology names ${name}, which is not a lab host`);
        }
        return found;
    };
    const database = instanceDatabases(state.stack.resources, outputs, topo.config.db.user).get(instance.name);
    const zabbix = database?.zabbix;
    const admin = database?.provider && { user: database.provider.username, password: database.provider.password };
    if (!zabbix || !admin) {
        throw new Error(
            `the plan kept in the lab's state gives installation ${instance.name} no ${zabbix ? "PostgreSQL provider login" : `role ${topo.config.db.user}`}`,
        );
    }
    const apiPassword = superAdminPassword(state.facts.outputs);
    if (!apiPassword) {
        throw new Error(
            "the plan kept in the lab's state has no zabbixAdminPassword output (applied before the stack generated Admin's password): run `npm run lab -- up` again",
        );
    }
    const uiCa = state.facts.outputs?.caCertificate;
    if (typeof uiCa !== "string") {
        throw new Error(
            "the plan kept in the lab's state has no caCertificate output (applied before the stack had a PKI): run `npm run lab -- up` again",
        );
    }
    // A lab applied before the model gained a timing still predicts with that timing's default.
    const timings: Timings = { ...DEFAULT_TIMINGS, ...outputs.model?.timings };
    return {
        paths,
        stateFile,
        state,
        topo,
        model,
        timings,
        failover: topo.config.db.failover,
        servers: instance.servers.map(s => host(s.host)),
        dbHosts: [instance.database.primary, ...instance.database.standbys].map(p => host(p.host)),
        loadBalancers: instance.loadBalancers.map(p => host(p.host)),
        zabbixPassword: zabbix.password,
        dbTls: tlsOf(database.provider!),
        admin,
        zabbixApi: { user: SUPER_ADMIN_USER, password: apiPassword },
        uiCa,
    };
}

/** The state file's record of a host (its PID, cgroups, namespace). */
export function recordOf(lab: DrillLab, host: LabHost): HostRecord {
    const rec = lab.state.hosts.find(h => h.name === host.name);
    if (!rec) {
        throw new Error(`host ${host.name} is not in the lab's records`);
    }
    return rec;
}

/** A root shell command on a lab host over SSH, bounded in time (a cut-off host must not hang a drill). */
export function onHost(lab: DrillLab, host: LabHost, command: string, timeoutMs = 20_000): Promise<RunResult> {
    return sshRun({
        host: host.address,
        port: host.sshPort,
        user: host.sshUser,
        key: lab.paths.sshKey,
        command,
        connectTimeout: 3,
        timeoutMs,
    });
}

/** The same, failing with the command's output unless it exits 0. */
export async function mustOnHost(lab: DrillLab, host: LabHost, command: string, timeoutMs = 30_000): Promise<string> {
    const out = await onHost(lab, host, command, timeoutMs);
    if (out.code !== 0) {
        throw new Error(
            `${host.name}: \`${command}\` exited ${out.code}: ${(out.stdout + out.stderr).trim().slice(0, 500)}`,
        );
    }
    return out.stdout;
}

/** Where a server host keeps the Zabbix server's files (its unit, its log), as the packages the config names install them. */
export function serverLayout(lab: DrillLab, host: LabHost): ZabbixLayout {
    return zabbixLayout(platformFor(host.os), lab.topo.config.zabbix.packageSource);
}

/** The unit that runs the Zabbix server on a server host. */
export function serverUnit(lab: DrillLab, host: LabHost): string {
    return serverLayout(lab, host).serverService;
}

/** The unit that runs PostgreSQL on a DB host: Patroni (which runs it) or the distribution's cluster unit. */
export function postgresUnit(lab: DrillLab, host: LabHost): string {
    const platform = platformFor(host.os);
    return lab.failover === "patroni" ? patroniLayout(platform).service : platform.postgres.service;
}

/** Patroni's configuration file on a DB host (for patronictl). */
export function patroniConfig(host: LabHost): string {
    return patroniLayout(platformFor(host.os)).config;
}
