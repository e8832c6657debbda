package dev.rpctl.cli;

import dev.rpctl.ExitCode;
import dev.rpctl.RpctlException;
import dev.rpctl.inspect.InspectService;
import dev.rpctl.protocol.ClaimRow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

@Command(name = "inspect", description = "One user: the primary's rows beside each cache side's entry, with a verdict per side.")
final class InspectCommand extends BaseCommand {
    @Option(names = "--user", required = true, paramLabel = "U", description = "User id.")
    long user;

    @Option(names = "--activity", paramLabel = "A", description = "Only this activity (also shows entries the primary has no row for).")
    long activity;

    @Option(names = "--repair", description = "Rewrite the differing sides from the primary, through the protocol.")
    boolean repair;

    @Override
    public Integer call() {
        if (user < 1 || activity < 0) {
            throw RpctlException.usage(user < 1 ? "--user must be a positive id, got " + user
                    : "--activity must be a positive id, got " + activity);
        }
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
