package dev.rpctl.cli;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.warm.WarmService;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;

@Command(name = "warm", description = "Loads users' entries into the cache sides before a big event: their rows (a"
        + " placeholder for a user with no claim yet), read a batch a query, written through the compare-and-set, so a"
        + " newer entry is kept.",
        footer = {"", "Exit: 0 done; 65 a bad line of the users file with --strict; 69 a server is unreachable.",
                "With --bloom, the activity's Bloom filter of claimers is built first (and alone without --users-file or --top)."})
final class WarmCommand extends BaseCommand {
    @Option(names = "--activity", required = true, paramLabel = "A", description = "Activity id.")
    long activity;

    static final class Users {
        @Option(names = "--users-file", paramLabel = "F", description = "User ids, one a line; - for stdin.")
        String file;

        @Option(names = "--top", paramLabel = "N", description = "The N users of the warm.top-query (by default the latest claimers).")
        Integer top;
    }

    @ArgGroup(multiplicity = "0..1")
    Users users;

    @Option(names = "--bloom", description = "Build the activity's Bloom filter of claimers from the table (sized by the"
            + " activity's count and bloom.false-positive-rate); readers use it once it holds every claimer.")
    boolean bloom;

    @Option(names = "--side", defaultValue = "all", paramLabel = "a|b|all", completionCandidates = Candidates.Sides.class, description = "The sides to warm (default: ${DEFAULT-VALUE}).")
    String side;

    @Option(names = "--rate", paramLabel = "N", description = "At most N users a second (default: as fast as it goes).")
    double rate;

    @Option(names = "--batch", defaultValue = "2000", paramLabel = "N", description = "Users a query and a round trip (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--strict", description = "Fail (65) on a bad line of the users file instead of skipping it.")
    boolean strict;

    @Override
    public Integer call() throws IOException {
        if (activity < 1 || batch < 1 || batch > 10_000 || rate < 0 || (users != null && users.top != null && users.top < 1)) {
            throw RpctlException.usage("--activity, --top and --rate must be positive, --batch 1-10000");
        }
        if (users == null && !bloom) {
            throw RpctlException.usage("give --users-file F, --top N or --bloom");
        }
        WarmService service = app().warmService(side);
        if (bloom) {
            Progress building = progress("bloom", "claimers");
            WarmService.BloomReport b = service.buildBloom(activity, app().activities().require(activity).totalCount(),
                    (n, s) -> building.update(n, s, ""));
            building.finish(b.claimers(), b.seconds(), "");
            WarmView.render(out(), b);
            if (users == null) {
                return ExitCode.OK.code();
            }
        }
        long[] ids = users.top != null ? service.top(activity, users.top) : UsersFile.read(users.file, strict, out());
        Progress progress = progress("warm", "users").total(ids.length);
        WarmService.Report r = service.warm(activity, ids, batch, rate, (n, s) -> progress.update(n, s, ""));
        progress.finish(r.users(), r.seconds(), "");
        WarmView.render(out(), r);
        return ExitCode.OK.code();
    }
}
