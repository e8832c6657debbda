package dev.rpctl.cli;

import dev.rpctl.App;
import dev.rpctl.ExitCode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

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

    static int exit(boolean consistent) {
        return consistent ? ExitCode.OK.code() : ExitCode.DIFFERENCES.code();
    }
}
