package dev.rpctl.cli;

import dev.rpctl.db.SchemaService;
import picocli.CommandLine.Command;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "db", mixinStandardHelpOptions = true, description = "Manage the schema.", subcommands = DbCommand.Init.class)
final class DbCommand {

    @Command(name = "init", description = "Create or upgrade the schema (idempotent) and say what changed.")
    static final class Init extends BaseCommand {
        @Override
        public Integer call() {
            List<SchemaService.Change> changes = app().schemaService().init();
            if (out().json()) {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("address", root().config().mysql().address());
                doc.put("database", root().config().mysql().database());
                doc.put("tables", changes);
                out().json(doc);
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            for (SchemaService.Change c : changes) {
                String action = c.action().equals("up to date") ? c.action() : "@|green " + c.action() + "|@";
                rows.add(List.of(c.table(), action));
            }
            out().table(List.of("table", "action"), rows);
            return 0;
        }
    }
}
