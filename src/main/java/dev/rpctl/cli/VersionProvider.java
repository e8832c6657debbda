package dev.rpctl.cli;

import dev.rpctl.app.App;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.errors.RpctlException;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The version Maven wrote into version.properties at build time, with the commit it was built
 * from; with -v also the versions of the servers the configuration names, as they answer.
 */
public final class VersionProvider implements IVersionProvider {
    @Spec
    CommandSpec spec;

    @Override
    public String[] getVersion() throws Exception {
        Properties p = new Properties();
        try (InputStream in = VersionProvider.class.getResourceAsStream("/dev/rpctl/version.properties")) {
            if (in != null) {
                p.load(in);
            }
        }
        String commit = "unknown";
        try (InputStream in = VersionProvider.class.getResourceAsStream("/dev/rpctl/commit")) {
            if (in != null) {
                String c = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).strip();
                commit = c.isEmpty() ? commit : c;
            }
        }
        List<String> lines = new ArrayList<>(List.of("rpctl " + p.getProperty("version", "unknown") + " (commit " + commit + ")",
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"));
        if (spec != null && spec.root().userObject() instanceof RpctlCommand root && root.verbosity() > 0) {
            lines.addAll(servers(root));
        }
        return lines.toArray(String[]::new);
    }

    /** One line a server: what it is, where, and its version or why it did not say. */
    private static List<String> servers(RpctlCommand root) {
        List<String> out = new ArrayList<>();
        App app;
        try {
            app = root.app();
        } catch (RpctlException e) {
            out.add("servers: " + e.getMessage());
            return out;
        }
        out.add(server("mysql " + app.primary().address(), () -> app.primary().serverVersion()));
        app.replica().ifPresent(r -> out.add(server("mysql replica " + r.address(), r::serverVersion)));
        for (CacheSide s : app.sides().values()) {
            out.add(server("redis side " + s.name() + " " + s.address(), s::serverVersion));
        }
        return out;
    }

    private static String server(String what, java.util.function.Supplier<String> version) {
        try {
            return what + ": " + version.get();
        } catch (RpctlException e) {
            return what + ": " + e.exitCode().name().toLowerCase(java.util.Locale.ROOT) + " (" + RpctlException.rootMessage(e) + ")";
        } catch (RuntimeException e) {
            return what + ": " + RpctlException.rootMessage(e);
        }
    }
}
