package dev.rpctl.cli;

import picocli.CommandLine;
import picocli.CommandLine.Help.Ansi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;

/** Writes a troff man page per command from the picocli model; run at build time. */
public final class ManPages {
    private ManPages() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "man/man1");
        Files.createDirectories(dir);
        write(dir, new CommandLine(new RpctlCommand()));
    }

    private static void write(Path dir, CommandLine cl) throws IOException {
        String name = cl.getCommandSpec().qualifiedName("-");
        String[] description = cl.getCommandSpec().usageMessage().description();
        StringBuilder sb = new StringBuilder();
        sb.append(".TH \"").append(name.toUpperCase()).append("\" 1 \"").append(LocalDate.now())
                .append("\" \"rpctl\" \"rpctl manual\"\n");
        sb.append(".SH NAME\n").append(name).append(" \\- ")
                .append(description.length > 0 ? escape(description[0]) : "").append('\n');
        sb.append(".SH SYNOPSIS AND OPTIONS\n.nf\n")
                .append(escape(cl.getUsageMessage(Ansi.OFF))).append(".fi\n");
        if (cl.getParent() == null) {
            sb.append(".SH SEE ALSO\n");
            cl.getSubcommands().keySet().stream().filter(s -> !s.equals("help"))
                    .forEach(s -> sb.append("rpctl-").append(s).append("(1)\n"));
        }
        Files.writeString(dir.resolve(name + ".1"), sb.toString());
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (!sub.getCommandName().equals("help")) {
                write(dir, sub);
            }
        }
    }

    private static String escape(String s) {
        return s.replace("\\", "\\e").replace("\n.", "\n\\&.").replace("\n'", "\n\\&'");
    }
}
