/** The bench's command line. */
import { UsageError, flagValue } from "../cli";

export const USAGE = `usage: npm run bench [-- --runs N]
  --runs N     runs of each case (default 5 for the dev environment and 3 for the others)
  --help, -h   this text`;

export interface BenchArgs {
    readonly runs?: number;
}

/** Reads the bench's flags; throws UsageError for anything else. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
    let runs: number | undefined;
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] !== "--runs") {
            throw new UsageError(`unknown argument ${argv[i]}`);
        }
        runs = Number(flagValue(argv[i], argv[++i]));
        if (!Number.isInteger(runs) || runs < 1) {
            throw new UsageError("--runs takes a whole number from 1");
        }
    }
    return runs === undefined ? {} : { runs };
}
