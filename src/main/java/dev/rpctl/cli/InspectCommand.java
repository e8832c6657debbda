package dev.rpctl.cli;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.inspect.InspectService;
import dev.rpctl.inspect.KeySurvey;
import dev.rpctl.protocol.ClaimRow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
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
        if (out().json()) {
            out().json(InspectView.decodedJson(key, decoded, report));
        } else {
            InspectView.decoded(out(), key, decoded);
            if (report != null) {
                out().line("");
                render(report);
            }
        }
        List<String> down = decoded.stream().filter(d -> d.unreachable() != null).map(KeySurvey.Decoded::unreachable).toList();
        if (!down.isEmpty()) {
            throw new RpctlException(ExitCode.UNAVAILABLE, String.join("; ", down));
        }
        return report == null ? 0 : exit(report.consistent());
    }

    private int user(long user, long activity) {
        InspectService.Report report = app().inspectService().inspect(user, activity, repair);
        if (out().json()) {
            out().json(InspectView.json(report));
        } else {
            render(report);
        }
        if (!report.unreachable().isEmpty()) {
            throw new RpctlException(ExitCode.UNAVAILABLE, String.join("; ", report.unreachable()));
        }
        return exit(report.consistent());
    }

    private void render(InspectService.Report report) {
        long user = report.userId();
        if (report.keys().isEmpty()) {
            out().line("user " + user + " has no claims on the primary"
                    + (activity > 0 ? "" : "; give --activity to inspect one key even without a row"));
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        for (InspectService.KeyView k : report.keys()) {
            rows.add(List.of(Long.toString(k.activityId()), "primary", row(k.primary()), "", ""));
            if (report.replicaLag() != null) {
                rows.add(List.of(Long.toString(k.activityId()), "replica", row(k.replica()), "", "lag " + report.replicaLag()));
            }
            for (InspectService.SideView s : k.sides()) {
                String verdict = (s.verdict().fine() ? "@|green " : "@|bold,red ") + s.verdict().label() + "|@";
                String entry = s.kind() + (s.version() == null ? "" : " v" + s.version()) + " ttl " + ttl(s.ttlMillis());
                String detail = s.repaired() != null ? s.repaired() + "; " + s.detail() : s.detail();
                String bloom = k.bloom().getOrDefault(s.side(), "none");
                if (!bloom.equals("none")) {
                    detail = (detail.isEmpty() ? "" : detail + "; ") + "bloom: " + bloom;
                }
                rows.add(List.of(Long.toString(k.activityId()), "side " + s.side(), entry, verdict, detail));
            }
        }
        out().line("user " + user + " (" + report.keys().get(0).key().replaceAll(":\\d+:\\d+$", ":<activity>:" + user) + ")");
        out().table(List.of("activity", "source", "entry", "verdict", "detail"), rows);
    }

    private static String row(ClaimRow c) {
        return c == null ? "no row" : "row v" + c.version() + " amount " + c.amount() + " " + c.status()
                + (c.requestId().isEmpty() ? "" : " req " + c.requestId());
    }

    static String ttl(long ms) {
        if (ms == -1) {
            return "none";
        }
        if (ms < 0) {
            return "-";
        }
        if (ms < 10_000) {
            return ms + "ms";
        }
        long s = ms / 1000;
        return s < 3600 ? s + "s" : (s / 3600) + "h" + ((s % 3600) / 60) + "m";
    }
}
