package dev.rpctl;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The run the launcher's class-data-sharing archive is made from ({@code RPCTL_CDS=make rpctl}):
 * the JVM lists every class this process loaded and archives them, so the classes a command
 * needs at start are mapped from the archive instead of read, verified and linked from the jars. It loads every
 * class of rpctl and of the libraries its commands use, and runs the command lines an operator
 * types most, each against a server that is not there (127.0.0.1:1), so that what runs at start
 * (the drivers' set-up included) is loaded as it is at run time; nothing is connected to, no
 * file but a temporary one is read, and nothing is printed.
 */
public final class StartupTraining {
    private static final String NOWHERE = "127.0.0.1:1";
    /**
     * The libraries whose every class is archived: what a command reaches once connected (a
     * result set, a pipeline, a JSON document) is loaded here, since nothing connects here.
     * jline is the shell's only.
     */
    private static final Pattern LIBRARIES = Pattern.compile(
            "(picocli|mysql-connector-j|mysql-binlog-connector-java|jedis|commons-pool2|HikariCP|logback-classic|logback-core|slf4j-api"
                    + "|jackson-core|jackson-databind|jackson-dataformat-yaml|snakeyaml|HdrHistogram)-[0-9].*\\.jar");

    private StartupTraining() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory("rpctl-cds");
        PrintStream stderr = System.err;
        try {
            // an empty file, so that neither ./rpctl.yaml nor /etc/rpctl/config.yaml is read
            Path config = Files.writeString(dir.resolve("rpctl.yaml"), "# empty: every key at its default\n");
            Map<String, String> env = new HashMap<>();
            env.put("RPCTL_CONFIG", config.toString());
            env.put("RPCTL_MYSQL_HOST", "127.0.0.1");
            env.put("RPCTL_MYSQL_PORT", "1");
            env.put("RPCTL_MYSQL_CONNECT_TIMEOUT", "1s");
            env.put("RPCTL_SIDE_A_NODES", NOWHERE);
            env.put("RPCTL_SIDE_B_NODES", NOWHERE);
            env.put("RPCTL_SIDE_A_TIMEOUT", "1s");
            env.put("RPCTL_SIDE_B_TIMEOUT", "1s");
            // the loggers write to System.err: nothing of this run is shown
            System.setErr(new PrintStream(OutputStream.nullOutputStream()));
            loadOwnClasses();
            for (String jar : System.getProperty("java.class.path").split(File.pathSeparator)) {
                if (LIBRARIES.matcher(Path.of(jar).getFileName().toString()).matches()) {
                    loadClasses(Path.of(jar));
                }
            }
            for (List<String> line : List.of(
                    List.of("--help"),
                    List.of("--version"),
                    List.of("inspect", "--help"),
                    List.of("status", "--help"),
                    List.of("config", "show"),
                    List.of("--json", "config", "show"),
                    List.of("config", "check"),
                    List.of("status"),
                    List.of("inspect", "--user", "1", "--activity", "1"),
                    List.of("inspect", "--key", "rp:claim:1:1"),
                    List.of("--json", "inspect", "--user", "1"),
                    List.of("activity", "show", "--activity", "1"),
                    List.of("inspect", "--user", "0"))) {
                run(env, dir, line);
            }
        } finally {
            System.setErr(stderr);
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void run(Map<String, String> env, Path cwd, List<String> line) {
        StringWriter sink = new StringWriter();
        try {
            Main.run(new PrintWriter(sink), new PrintWriter(sink), env, cwd, line.toArray(String[]::new));
        } catch (RuntimeException | LinkageError e) {
            // a command that cannot run here has still loaded what it needed to get that far
        }
    }

    /** Every class of rpctl's own jar. */
    private static void loadOwnClasses() throws IOException {
        Path jar;
        try {
            jar = Path.of(StartupTraining.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | SecurityException e) {
            return;
        }
        if (!Files.isRegularFile(jar)) {
            return;
        }
        loadClasses(jar);
    }

    /** Loads, without initialising, every class of a jar. */
    private static void loadClasses(Path jar) throws IOException {
        ClassLoader loader = StartupTraining.class.getClassLoader();
        try (JarFile file = new JarFile(jar.toFile())) {
            Enumeration<JarEntry> entries = file.entries();
            while (entries.hasMoreElements()) {
                String name = entries.nextElement().getName();
                if (name.endsWith(".class") && !name.contains("-")) {
                    try {
                        Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), false, loader);
                    } catch (ClassNotFoundException | LinkageError e) {
                        // a class whose library is absent is simply not archived
                    }
                }
            }
        }
    }
}
