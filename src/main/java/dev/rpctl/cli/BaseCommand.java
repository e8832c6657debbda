package dev.rpctl.cli;

import dev.rpctl.app.App;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.config.Durations;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.time.Duration;
import java.util.concurrent.Callable;

/** What every subcommand reaches through the root: its output, the configuration, the wiring. */
@Command(mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true)
abstract class BaseCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    RpctlCommand root() {
        return (RpctlCommand) spec.root().userObject();
    }

    Output out() {
        return root().output();
    }

    App app() {
        return root().app();
    }

    /** The progress of a long command on stderr: live on a terminal (not with --json), else a summary line at the end. */
    Progress progress(String what, String unit) {
        return new Progress(out().err(), root().terminal() && !out().json(), what, unit);
    }

    /** A duration flag (250ms, 30s, 5m, 1h) in the config's one syntax; a usage error naming the flag otherwise. */
    static Duration duration(String flag, String value) {
        try {
            return Durations.parse(value);
        } catch (IllegalArgumentException e) {
            throw RpctlException.usage(flag + " must be a duration like 250ms, 30s, 5m or 1h, got \"" + value + "\"");
        }
    }

    static int exit(boolean consistent) {
        return consistent ? ExitCode.OK.code() : ExitCode.DIFFERENCES.code();
    }
}
