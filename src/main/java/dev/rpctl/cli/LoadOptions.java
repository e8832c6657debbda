package dev.rpctl.cli;

import dev.rpctl.errors.RpctlException;
import dev.rpctl.claim.LoadDriver;
import picocli.CommandLine.Option;

/** The flags of a claim load ({@code claim --users}), and the plan they describe once checked. */
final class LoadOptions {
    @Option(names = "--users", paramLabel = "FROM-TO", description = "Load: the range of user ids, e.g. 1-100000.")
    String users;

    @Option(names = "--concurrency", defaultValue = "16", paramLabel = "C", description = "Load: threads (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--duration", paramLabel = "D", description = "Load: how long, e.g. 30s, 2m.")
    String duration;

    @Option(names = "--count", paramLabel = "N", description = "Load: how many operations.")
    Long count;

    @Option(names = "--duplicate-ratio", defaultValue = "0", paramLabel = "R",
            description = "Load: share of claims that retry an already claimed user (default: ${DEFAULT-VALUE}).")
    double duplicateRatio;

    @Option(names = "--read-ratio", defaultValue = "0", paramLabel = "R",
            description = "Load: share of operations that are reads (default: ${DEFAULT-VALUE}).")
    double readRatio;

    @Option(names = "--rate", defaultValue = "0", paramLabel = "N", description = "Load: operations per second, 0 for as fast as possible.")
    double rate;

    @Option(names = "--read-side", defaultValue = "a", paramLabel = "a|b", completionCandidates = Candidates.OneSide.class, description = "Load: the side reads use (default: ${DEFAULT-VALUE}).")
    String readSide;

    @Option(names = "--verify", description = "Load: then check no double claim, no overspend, remaining = total - paid, and every touched entry on every side.")
    boolean verify;

    /** Whether a flag that only a load takes is given. */
    boolean anyOnlyForLoad() {
        return duration != null || count != null || verify;
    }

    LoadDriver.Plan plan(long activity) {
        long[] range = range(users);
        if (duration == null && count == null) {
            throw RpctlException.usage("a load needs --duration D or --count N");
        }
        if (duration != null && count != null) {
            throw RpctlException.usage("--duration and --count are alternatives; give one");
        }
        if (count != null && count < 1) {
            throw RpctlException.usage("--count must be at least 1, got " + count);
        }
        if (concurrency < 1 || concurrency > 4096) {
            throw RpctlException.usage("--concurrency must be 1-4096, got " + concurrency);
        }
        if (duplicateRatio < 0 || duplicateRatio > 1 || readRatio < 0 || readRatio > 1) {
            throw RpctlException.usage("--duplicate-ratio and --read-ratio must be between 0 and 1");
        }
        return new LoadDriver.Plan(activity, range[0], range[1], concurrency,
                duration == null ? null : BaseCommand.duration("--duration", duration), count == null ? 0 : count,
                duplicateRatio, readRatio, rate);
    }

    static long[] range(String s) {
        String[] p = s.split("-", 2);
        try {
            long from = Long.parseLong(p[0].trim());
            long to = p.length == 1 ? from : Long.parseLong(p[1].trim());
            if (from < 1 || to < from) {
                throw new NumberFormatException();
            }
            return new long[] {from, to};
        } catch (NumberFormatException e) {
            throw RpctlException.usage("--users must be FROM-TO with 1 <= FROM <= TO, e.g. 1-100000, got \"" + s + "\"");
        }
    }
}
