/**
 * Scratch space of the real-tool checks: temp dirs, files and background programs of one test
 * file, torn down in afterAll, and the files a test's own nginx needs.
 */
import { chmod, chown, copyFile, mkdir, mkdtemp, rm, writeFile } from "fs/promises";
import { tmpdir } from "os";
import * as path from "path";
import { Daemon, RunOptions, startDaemon } from "./processes";
import { requireFile, userInfo } from "./tools";

/**
 * Temp dirs, servers and processes of one test file, torn down in reverse order in afterAll,
 * whether the tests passed or not. Use `scratchSpace()` at the top of a test file.
 */
export class Scratch {
    private readonly cleanups: Array<{ what: string; run: () => Promise<void> }> = [];

    /** Registers a teardown step; steps run last-registered first. */
    defer(what: string, run: () => Promise<void> | void): void {
        this.cleanups.push({
            what,
            run: async () => {
                await run();
            },
        });
    }

    /** A fresh temp dir (mode 0700), owned by `owner` when given, removed at teardown. */
    async dir(prefix: string, owner?: string): Promise<string> {
        const dir = await mkdtemp(path.join(tmpdir(), `zha-${prefix}-`));
        this.defer(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
        if (owner) {
            const u = userInfo(owner);
            await chown(dir, u.uid, u.gid);
        }
        return dir;
    }

    /** A background program stopped (with its whole process group) at teardown. */
    daemon(name: string, tool: string, args: readonly string[], opts: RunOptions = {}): Daemon {
        const daemon = startDaemon(name, tool, args, opts);
        this.defer(`stop ${name}`, () => daemon.stop());
        return daemon;
    }

    async cleanup(): Promise<void> {
        const failures: string[] = [];
        for (const step of this.cleanups.splice(0).reverse()) {
            try {
                await step.run();
            } catch (e) {
                failures.push(`${step.what}: ${(e as Error).message}`);
            }
        }
        if (failures.length > 0) {
            throw new Error(`teardown failed:\n${failures.join("\n")}`);
        }
    }
}

/** A Scratch whose teardown runs in this test file's afterAll. */
export function scratchSpace(): Scratch {
    const scratch = new Scratch();
    afterAll(() => scratch.cleanup(), 120_000);
    return scratch;
}

/** Writes a file with the given mode and owner ("user" or root when omitted). */
export async function putFile(file: string, content: string, mode = 0o644, owner?: string): Promise<string> {
    await writeFile(file, content);
    await chmod(file, mode);
    if (owner) {
        const u = userInfo(owner);
        await chown(file, u.uid, u.gid);
    }
    return file;
}
/**
 * A prefix directory for a test's own nginx: the rendered site, included from a minimal nginx.conf
 * with pid, logs and temp paths inside `dir`. The site's relative `include fastcgi_params` resolves
 * next to nginx.conf.
 */
export async function writeNginxPrefix(dir: string, site: string, webUser: string): Promise<void> {
    await copyFile(requireFile("/etc/nginx/fastcgi_params"), path.join(dir, "fastcgi_params"));
    await putFile(path.join(dir, "site.conf"), site);
    await putFile(
        path.join(dir, "nginx.conf"),
        `user ${webUser};
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 64; }
http {
    access_log ${dir}/access.log;
${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(t => `    ${t}_temp_path ${dir}/${t}_temp;`).join("\n")}
    include ${dir}/site.conf;
}
`,
    );
}

/** nginx's arguments to run (or test) the prefix writeNginxPrefix wrote in `dir`. */
export function nginxPrefixArgs(dir: string): string[] {
    return ["-p", `${dir}/`, "-c", `${dir}/nginx.conf`, "-e", `${dir}/error.log`];
}

/** A minimal global php-fpm.conf in `dir` that includes the rendered pool, everything in that dir. */
export async function writePhpFpmConf(dir: string, pool: string): Promise<string> {
    await mkdir(path.join(dir, "pool.d"));
    await putFile(path.join(dir, "pool.d", "zabbix.conf"), pool);
    return putFile(
        path.join(dir, "php-fpm.conf"),
        `[global]
pid = ${dir}/php-fpm.pid
error_log = ${dir}/php-fpm.log
daemonize = no
include = ${dir}/pool.d/*.conf
`,
    );
}
