/** The preview's command line. */
import * as path from "path";
import { UsageError, flagValue } from "../cli";

/** The environment previewed without --config: prod holds the study's design at its intended strength. */
export const DEFAULT_CONFIG = "Pulumi.prod.yaml";

export const USAGE = `usage: npm run preview [-- --config Pulumi.<env>.yaml] [--markdown FILE] [--json FILE]
  --config FILE    the stack settings to plan (default ${DEFAULT_CONFIG}); with it, a mandatory design
                   rule broken by the configured pattern, or a bad configuration, exits 1
  --markdown FILE  write the comparison as Markdown (a pull-request comment)
  --json FILE      write the comparison as JSON
  --help, -h       this text`;

export interface PreviewArgs {
    /** The stack settings file, resolved. */
    readonly config: string;
    /** Whether --config was given: then, as in `pulumi preview`, mandatory violations fail the command. */
    readonly explicitConfig: boolean;
    readonly markdown?: string;
    readonly json?: string;
}

const FLAGS = ["--config", "--markdown", "--json"] as const;

/** Reads the preview's flags; throws UsageError for anything else. */
export function parsePreviewArgs(argv: readonly string[]): PreviewArgs {
    const args: { config: string; markdown?: string; json?: string } = { config: DEFAULT_CONFIG };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (!(FLAGS as readonly string[]).includes(flag)) {
            throw new UsageError(`unknown argument ${flag}`);
        }
        args[flag.slice(2) as "config" | "markdown" | "json"] = flagValue(flag, argv[++i]);
    }
    return { ...args, config: path.resolve(args.config), explicitConfig: argv.includes("--config") };
}
