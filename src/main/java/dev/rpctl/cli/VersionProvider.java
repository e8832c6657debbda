package dev.rpctl.cli;

import picocli.CommandLine.IVersionProvider;

import java.io.InputStream;
import java.util.Properties;

/** The version Maven wrote into version.properties at build time. */
public final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() throws Exception {
        Properties p = new Properties();
        try (InputStream in = VersionProvider.class.getResourceAsStream("/dev/rpctl/version.properties")) {
            if (in != null) {
                p.load(in);
            }
        }
        return new String[] {"rpctl " + p.getProperty("version", "unknown"),
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
    }
}
