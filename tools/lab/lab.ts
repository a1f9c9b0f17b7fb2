/**
 * The lab's commands. `up` builds (or reuses) the cached base and repository, plans the stack
 * under the mock runtime with the lab's key, boots the hosts, deploys the plan as the engine would
 * (recording the state per URN), verifies, replays every step again and plans the same config
 * once more (it must plan nothing); `down` undoes everything the state file records. `status`
 * (checks/status.ts) reports what runs; `apply` (replay/index.ts) applies a changed config to the
 * running lab.
 */
import { randomBytes } from "crypto";
import * as path from "path";
import { readEnvironment } from "../offline";
import {
    Check,
    Instance,
    checkExposure,
    checkIdempotent,
    checkOperatingSystems,
    instancesOf,
    verifyInstances,
} from "./checks";
import {
    HostMemory,
    LabState,
    Log,
    StateFile,
    Topology,
    cachePaths,
    checkLabConfig,
    defaultConfigFile,
    ensureImages,
    ensureHostKeys,
    ensureKeyPair,
    hostMemory,
    managedEndpoints,
    provisionManagedDatabase,
    ensureProviderCa,
    removeLabCgroups,
    requireMachine,
    setUpNetwork,
    startHosts,
    stopHost,
    tearDownNetwork,
    topologyOf,
    withLock,
} from "./machines";
import {
    applyPlan,
    deployedFacts,
    emptyStack,
    planLab,
    priorOutputs,
    renderSummary,
    runSteps,
    stepsFor,
    summaryOf,
    unchanged,
} from "./replay";

export interface UpOptions {
    readonly configFile?: string;
    /** Passed to the stack program as zabbix-ha:pattern. */
    readonly pattern?: string;
    readonly cacheRoot?: string;
    /** Independent steps applied at once. */
    readonly jobs?: number;
    readonly log?: Log;
}

export interface UpResult {
    readonly checks: readonly Check[];
    readonly elapsedSeconds: number;
    /** Memory of each host's processes once deployed and checked. */
    readonly memory: ReadonlyMap<string, HostMemory>;
    /** Sum over the hosts of their processes' PSS, MiB: the lab's memory figure. */
    readonly memoryMiB: number;
    readonly cold: { readonly base: boolean; readonly repository: boolean };
}

export async function up(options: UpOptions = {}): Promise<UpResult> {
    const started = Date.now();
    const log = options.log ?? (line => console.log(line));
    const configFile = path.resolve(options.configFile ?? defaultConfigFile());
    // Every problem of the config, naming the file, before the machine is even looked at.
    await checkLabConfig(readEnvironment(configFile), options.pattern);
    requireMachine();
    const paths = cachePaths(options.cacheRoot);
    return withLock(paths, async () => {
        const topo = topologyOf(readEnvironment(configFile));
        const key = await ensureKeyPair(paths.sshKey);
        // Plan first: a config error should surface before a minute of debootstrap, and leave a running lab alone.
        const managedAdminPassword = randomBytes(18).toString("base64url");
        // Each host's SSH key, pinned in the plan as an operator pins real hosts' keys.
        const hostKeys = await ensureHostKeys(
            paths.hostKeys,
            topo.hosts.map(h => h.name),
        );
        // The CA of the provider the lab plays (pattern 4), named in the plan as cloud.database.caCertificate.
        const providerCa = ensureProviderCa(paths.providerCa);
        const plan = await planLab(configFile, key.privateKey, hostKeys, options.pattern, managedAdminPassword, {
            providerCaCertPem: providerCa.certPem,
        });
        const managed = managedEndpoints(plan, topo);
        const steps = plan.resources.filter(r => r.custom).length;
        log(
            `plan: ${steps} resources from ${path.relative(process.cwd(), configFile) || configFile}${options.pattern ? ` (pattern ${options.pattern})` : ""}`,
        );
        const file = new StateFile(paths.state);
        const previous = file.read();
        if (previous) {
            log("a lab is already recorded: taking it down first");
            await tearDown(previous, file, log);
        }

        const { images, cold } = await ensureImages(paths, plan, topo.config, managed, log);

        const plannedWith = {
            ...(options.pattern ? { pattern: options.pattern } : {}),
            ...(managed.length > 0 ? { managedAdminPassword } : {}),
        };
        const state: LabState = {
            version: 1,
            configFile,
            startedAt: new Date().toISOString(),
            netns: [],
            rootLinks: [],
            hosts: [],
            plannedWith,
            images,
            stack: emptyStack(plan),
        };
        file.write(state);
        let phase = Date.now();
        await setUpNetwork(topo, file, state);
        await startHosts(topo, file, state, {
            images,
            key: key.privateKeyFile,
            publicKey: key.publicKey,
            hostKeys: paths.hostKeys,
            runRoot: paths.run,
            logs: paths.logs,
        });
        log(
            `hosts: ${topo.hosts.map(h => `${h.name} (${h.address}, ${h.site})`).join(", ")} booted in ${((Date.now() - phase) / 1000).toFixed(1)} s`,
        );

        for (const endpoint of managed) {
            await provisionManagedDatabase(endpoint, managedAdminPassword, key.privateKeyFile, providerCa, log);
        }

        const hostNames = new Map(topo.hosts.map(h => [h.address, h.name]));
        const applyOptions = {
            keyFile: key.privateKeyFile,
            privateKey: key.privateKey,
            hostNames,
            jobs: options.jobs ?? 3,
            log,
        };
        phase = Date.now();
        // The engine's first `pulumi up`: every resource a create, in dependency order, recorded per URN as it completes.
        const deploy = stepsFor(state.stack, plan);
        await runSteps(state, file, deploy.goals, deploy.steps, applyOptions);
        state.deployed = { at: new Date().toISOString(), pattern: options.pattern ?? "(from config)" };
        state.facts = deployedFacts(plan);
        file.write(state);
        log(`deploy: applied in ${((Date.now() - phase) / 1000).toFixed(1)} s`);

        const checks = await verify(
            topo,
            instancesOf(deploy.goals, plan.outputs, topo, managed),
            key.privateKeyFile,
            log,
        );
        // The port scan needs the hosts' firewalls: with firewall.enabled off every port is open by design.
        for (const exposure of await checkExposure(topo, deploy.goals)) {
            log(`${exposure.ok ? "ok  " : "FAIL"} ${exposure.name}: ${exposure.detail}`);
            checks.push(exposure);
        }
        const systems = await checkOperatingSystems(topo.hosts, key.privateKeyFile);
        log(`${systems.ok ? "ok  " : "FAIL"} ${systems.name}: ${systems.detail}`);
        checks.push(systems);
        // Every step run once more must change nothing: a Command's update runs its create again.
        phase = Date.now();
        const replay = await applyPlan(plan, { ...applyOptions, pass: "replay" });
        const idempotent = checkIdempotent(replay);
        log(
            `${idempotent.ok ? "ok  " : "FAIL"} ${idempotent.name}: ${idempotent.detail} (${((Date.now() - phase) / 1000).toFixed(1)} s)`,
        );
        checks.push(idempotent);
        // And `pulumi up` of the same config must plan nothing.
        phase = Date.now();
        const again = await planLab(configFile, key.privateKey, hostKeys, options.pattern, managedAdminPassword, {
            providerCaCertPem: providerCa.certPem,
            stack: plan.stack,
            prior: priorOutputs(state.stack),
        });
        const againSteps = stepsFor(state.stack, again).steps;
        const summary = summaryOf(againSteps);
        const nothing: Check = {
            name: "no changes planned",
            ok: unchanged(summary),
            detail: unchanged(summary)
                ? `the same config plans ${summary.same.length} resources the same`
                : renderSummary(againSteps, "the same config plans changes:").join("\n      "),
        };
        log(
            `${nothing.ok ? "ok  " : "FAIL"} ${nothing.name}: ${nothing.detail} (${((Date.now() - phase) / 1000).toFixed(1)} s)`,
        );
        checks.push(nothing);

        const memory = hostMemory(state.hosts);
        const pss = [...memory.values()].reduce((a, m) => a + m.pssMiB, 0);
        const rss = [...memory.values()].reduce((a, m) => a + m.rssMiB, 0);
        const elapsed = (Date.now() - started) / 1000;
        log(
            `figures: elapsed ${elapsed.toFixed(0)} s (${cold.base ? "cold: base built" : "warm: base cached"}, ${cold.repository ? "repository built" : "repository cached"})`,
        );
        log(
            `figures: memory ${pss.toFixed(0)} MiB, the sum of the PSS of every process in the hosts' cgroups ` +
                `(${[...memory].map(([h, m]) => `${h} ${m.pssMiB.toFixed(0)}`).join(", ")}); their RSS sum, which counts shared pages once per process, is ${rss.toFixed(0)} MiB`,
        );
        const failed = checks.filter(c => !c.ok);
        if (failed.length > 0) {
            throw new Error(
                `the lab is up but ${failed.length} check(s) failed (inspect with \`npm run lab -- status\`, then \`npm run lab -- down\`):\n` +
                    failed.map(c => `  - ${c.name}: ${c.detail}`).join("\n"),
            );
        }
        return { checks, elapsedSeconds: elapsed, memory, memoryMiB: pss, cold };
    });
}

async function verify(topo: Topology, instances: readonly Instance[], keyFile: string, log: Log): Promise<Check[]> {
    const checks: Check[] = [];
    await verifyInstances(topo, instances, keyFile, c => {
        checks.push(c);
        log(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
    });
    return checks;
}

/** Stops hosts, then removes namespaces and links, by the records; keeps the records of what it could not undo. */
async function tearDown(state: LabState, file: StateFile, log: Log): Promise<void> {
    const problems: string[] = [];
    // Hosts shut down in parallel: each waits for its own systemd, not for the others'.
    for (const found of await Promise.all(state.hosts.map(rec => stopHost(rec, log)))) {
        problems.push(...found);
    }
    problems.push(...(await tearDownNetwork(state, log)));
    removeLabCgroups();
    if (problems.length > 0) {
        throw new Error(
            `down could not undo everything (the state file ${file.file} is kept):\n  - ${problems.join("\n  - ")}`,
        );
    }
    file.remove();
}

export async function down(options: { cacheRoot?: string; log?: Log } = {}): Promise<void> {
    const log = options.log ?? (line => console.log(line));
    const paths = cachePaths(options.cacheRoot);
    await withLock(paths, async () => {
        const file = new StateFile(paths.state);
        const state = file.read();
        if (!state) {
            log(`no lab recorded in ${paths.state}: nothing to take down`);
            return;
        }
        await tearDown(state, file, log);
        log("the lab is down");
    });
}

export { status } from "./checks";
