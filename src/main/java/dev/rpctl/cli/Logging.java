package dev.rpctl.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.status.Status;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where log lines go: the built-in logback.xml (stderr, one line an event), or the operator's own
 * logback file named by RPCTL_LOGBACK or -Dlogback.configurationFile, which then decides levels
 * and format unless -v asks for more. Lines that libraries log through java.util.logging take the
 * same way.
 */
final class Logging {
    /** Names the operator's logback file; not a configuration key, since logging starts before the configuration is read. */
    static final String LOGBACK_ENV = "RPCTL_LOGBACK";
    private static final String LOADED = "rpctl.logback";

    private Logging() {
    }

    /** Loads the operator's logback file if one is named and not loaded yet; whether the operator's file rules. */
    static synchronized boolean userFile(Map<String, String> env) {
        bridgeJul();
        String named = env.getOrDefault(LOGBACK_ENV, "");
        if (named.isEmpty()) {
            return System.getProperty("logback.configurationFile") != null;
        }
        Path file = Path.of(named).toAbsolutePath();
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        if (file.equals(context.getObject(LOADED))) {
            return true;
        }
        if (!Files.isReadable(file)) {
            throw new RpctlException(ExitCode.CONFIG, LOGBACK_ENV + "=" + named + ": no such file, or not readable;"
                    + " name a logback configuration file, or unset it for the built-in logging");
        }
        context.reset();
        context.getStatusManager().clear();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        try {
            configurator.doConfigure(file.toFile());
        } catch (JoranException e) {
            // reported below from the context's status, which has the line
        }
        for (Status s : context.getStatusManager().getCopyOfStatusList()) {
            if (s.getLevel() == Status.ERROR) {
                throw new RpctlException(ExitCode.CONFIG, LOGBACK_ENV + "=" + named + ": " + RpctlException.oneLine(s.getMessage()));
            }
        }
        context.putObject(LOADED, file);
        return true;
    }

    private static void bridgeJul() {
        if (!SLF4JBridgeHandler.isInstalled()) {
            SLF4JBridgeHandler.removeHandlersForRootLogger();
            SLF4JBridgeHandler.install();
        }
    }
}
