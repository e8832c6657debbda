package dev.rpctl.cli;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.inspect.InspectService;
import dev.rpctl.inspect.KeySurvey;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Optional;

@Command(name = "inspect", description = {
        "One user: the primary's rows beside each cache side's entry, with a verdict per side.",
        "--activity A alone: the activity's keys on each side, found by SCAN (counts by kind, TTLs, orphans).",
        "--key KEY: any entry decoded on each side (and, for a claim key, the verdicts of its user)."})
final class InspectCommand extends BaseCommand {
    @Option(names = "--user", paramLabel = "U", description = "User id.")
    Long user;

    @Option(names = "--key", paramLabel = "KEY", description = "A Redis key to decode on every side.")
    String key;

    @Option(names = "--activity", paramLabel = "A", description = "Only this activity (also shows entries the primary has no row for).")
    long activity;

    @Option(names = "--repair", description = "Rewrite the differing sides from the primary, through the protocol.")
    boolean repair;

    @Override
    public Integer call() {
        if ((user != null && user < 1) || activity < 0) {
            throw RpctlException.usage(user != null && user < 1 ? "--user must be a positive id, got " + user
                    : "--activity must be a positive id, got " + activity);
        }
        if (key != null) {
            if (user != null || activity > 0) {
                throw RpctlException.usage("--key names the entry by itself; give it without --user and --activity");
            }
            return key();
        }
        if (user == null) {
            if (activity == 0) {
                throw RpctlException.usage("give --user U (one user), --activity A (its keys on each side) or --key KEY");
            }
            if (repair) {
                throw RpctlException.usage("--repair goes with --user; for a whole activity run 'rpctl reconcile --activity " + activity + "'");
            }
            return survey();
        }
        return user(user, activity);
    }

    private int survey() {
        long rows = app().activities().find(activity).map(a -> a.paidCount()).orElse(0L);
        KeySurvey.Summary s = app().keySurvey().activity(activity, rows);
        InspectView.survey(out(), s);
        List<String> down = s.sides().stream().filter(x -> x.unreachable() != null).map(KeySurvey.SideSummary::unreachable).toList();
        if (!down.isEmpty()) {
            throw new RpctlException(ExitCode.UNAVAILABLE, String.join("; ", down));
        }
        return exit(s.consistent());
    }

    private int key() {
        KeySurvey survey = app().keySurvey();
        List<KeySurvey.Decoded> decoded = survey.decode(key);
        Optional<long[]> names = survey.parse(key);
        InspectService.Report report = names.map(n -> app().inspectService().inspect(n[1], n[0], repair)).orElse(null);
        if (names.isEmpty() && repair) {
            throw RpctlException.usage("--repair needs a claim key (" + root().config().mapping().keyTemplate() + ")");
        }
        InspectView.key(out(), key, decoded, report);
        List<String> down = decoded.stream().filter(d -> d.unreachable() != null).map(KeySurvey.Decoded::unreachable).toList();
        if (!down.isEmpty()) {
            throw new RpctlException(ExitCode.UNAVAILABLE, String.join("; ", down));
        }
        return report == null ? 0 : exit(report.consistent());
    }

    private int user(long user, long activity) {
        InspectService.Report report = app().inspectService().inspect(user, activity, repair);
        InspectView.user(out(), report, activity);
        if (!report.unreachable().isEmpty()) {
            throw new RpctlException(ExitCode.UNAVAILABLE, String.join("; ", report.unreachable()));
        }
        return exit(report.consistent());
    }
}
