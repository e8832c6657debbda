package dev.rpctl.cli;

import dev.rpctl.config.Config;
import picocli.CommandLine.Command;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "config", mixinStandardHelpOptions = true, description = "Show or check the effective configuration.",
        subcommands = {ConfigCommand.Show.class, ConfigCommand.Check.class})
final class ConfigCommand {

    @Command(name = "show", description = "Print the effective configuration, secrets masked, and where each value came from.")
    static final class Show extends BaseCommand {
        @Override
        public Integer call() {
            Config c = root().config();
            List<Config.Setting> settings = c.describe();
            if (out().json()) {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("file", c.file().map(Object::toString).orElse(null));
                List<Map<String, String>> list = new ArrayList<>();
                for (Config.Setting s : settings) {
                    Map<String, String> m = new LinkedHashMap<>();
                    m.put("key", s.key());
                    m.put("value", s.value());
                    m.put("origin", s.origin().name().toLowerCase());
                    m.put("where", s.where());
                    list.add(m);
                }
                doc.put("settings", list);
                out().json(doc);
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            for (Config.Setting s : settings) {
                rows.add(List.of(s.key(), s.value(), s.origin().name().toLowerCase()
                        + (s.where() == null || s.where().isEmpty() ? "" : " (" + s.where() + ")")));
            }
            out().table(List.of("key", "value", "origin"), rows);
            return 0;
        }
    }

    @Command(name = "check", description = "Validate the configuration: exit 0 when it is valid, 78 listing every problem.")
    static final class Check extends BaseCommand {
        @Override
        public Integer call() {
            Config c = root().config();
            String from = c.file().map(p -> p.toString()).orElse("defaults and environment (no file)");
            if (out().json()) {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("valid", true);
                doc.put("file", c.file().map(Object::toString).orElse(null));
                out().json(doc);
            } else {
                out().line("@|green ok|@: " + from);
            }
            return 0;
        }
    }
}
