package dev.rpctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Every command's --json document against docs/json.md: its keys, their types, and the rules of the page. */
class JsonSchemaIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SECTION = Pattern.compile("^## (.+)$");
    private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\| ([a-z ]+) \\|.*$");
    private static final Pattern SNAKE = Pattern.compile("[a-z][a-z0-9_]*");
    private static final Map<String, Map<String, String>> DOC = new HashMap<>();

    private final Rpctl rpctl = Rpctl.withServices();

    @BeforeAll
    static void readTheDoc() throws Exception {
        Map<String, String> keys = null;
        for (String line : Files.readAllLines(Path.of("docs/json.md"))) {
            Matcher s = SECTION.matcher(line);
            if (s.matches()) {
                keys = new LinkedHashMap<>();
                for (String name : s.group(1).split(", ")) {
                    DOC.put(name, keys);
                }
                continue;
            }
            Matcher r = ROW.matcher(line);
            if (keys != null && r.matches()) {
                keys.put(r.group(1), r.group(2).trim());
            }
        }
    }

    /** Parses the one document on stdout and checks it against the section; returns it. */
    JsonNode conforms(String section, Rpctl.Result r) throws Exception {
        Map<String, String> keys = DOC.get(section);
        assertNotNull(keys, "docs/json.md has no section " + section);
        JsonNode doc = JSON.readTree(r.out());
        assertEquals(1, doc.get("schema").asInt(), r::toString);
        assertEquals("schema", doc.fieldNames().next(), "schema comes first: " + r.out());
        walk(keys, "", doc, r);
        for (String k : keys.keySet()) {
            if (!k.contains(".") && !k.contains("[") && !k.equals("verify")) {
                assertTrue(doc.has(k), () -> section + ": documented key " + k + " missing: " + r.out());
            }
        }
        return doc;
    }

    private static void walk(Map<String, String> keys, String path, JsonNode node, Rpctl.Result r) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                String named = path.isEmpty() ? f.getKey() : path + "." + f.getKey();
                String any = path + ".*";
                String p;
                if (keys.containsKey(any)) {
                    p = any;
                    assertTrue(SNAKE.matcher(f.getKey()).matches(), () -> "map key " + named + " is not snake_case: " + r);
                } else {
                    p = named;
                    assertTrue(SNAKE.matcher(f.getKey()).matches(), () -> "key " + named + " is not snake_case: " + r);
                }
                String type = keys.get(p);
                if (type == null) {
                    fail("key " + named + " is not in docs/json.md: " + r);
                }
                check(p, type, f.getValue(), r);
                if (!type.equals("any")) {
                    walk(keys, p, f.getValue(), r);
                }
            }
        } else if (node.isArray()) {
            for (JsonNode e : node) {
                String p = path + "[]";
                String type = keys.get(p);
                if (type == null) {
                    fail("elements of " + path + " are not in docs/json.md: " + r);
                }
                check(p, type, e, r);
                walk(keys, p, e, r);
            }
        }
    }

    private static void check(String path, String type, JsonNode v, Rpctl.Result r) {
        String base = type.replace(" or null", "");
        if (base.equals("any")) {
            return;
        }
        if (v.isNull()) {
            assertTrue(type.endsWith("or null"), () -> path + " is null but documented " + type + ": " + r);
            return;
        }
        boolean ok = switch (base) {
            case "integer" -> v.isIntegralNumber();
            case "number" -> v.isNumber();
            case "string" -> v.isTextual();
            case "boolean" -> v.isBoolean();
            case "object" -> v.isObject();
            case "array" -> v.isArray();
            case "time" -> v.isTextual() && parses(v.asText());
            case "any" -> true;
            default -> false;
        };
        assertTrue(ok, () -> path + " is " + v + ", documented " + type + ": " + r);
        if (path.endsWith("_ms") || path.endsWith("_bytes")) {
            assertTrue(v.asDouble() >= 0, () -> path + " is negative: " + r);
        }
        if (v.isIntegralNumber() && !path.equals("error.code")) {
            assertTrue(v.asLong() >= 0, () -> path + " is negative (unknown must be null): " + r);
        }
    }

    private static boolean parses(String t) {
        try {
            Instant.parse(t);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static String fresh() {
        return Long.toString(Services.freshActivityId());
    }

    @Test
    void config_show_and_check_follow_the_schema() throws Exception {
        conforms("config show", rpctl.run("--json", "config", "show"));
        JsonNode check = conforms("config check", rpctl.run("--json", "config", "check"));
        assertTrue(check.get("file").isNull(), check::toString);
    }

    @Test
    void db_init_follows_the_schema() throws Exception {
        conforms("db init", rpctl.run("--json", "db", "init"));
    }

    @Test
    void activity_claims_and_a_verified_load_follow_the_schema() throws Exception {
        String a = fresh();
        JsonNode created = conforms("activity create", rpctl.run("--json", "activity", "create", "--activity", a,
                "--count", "20", "--amount", "2000", "--starts", "2026-01-01T00:00:00Z"));
        assertEquals("2026-01-01T00:00:00Z", created.get("starts_at").asText());
        conforms("activity show", rpctl.run("--json", "activity", "show", "--activity", a));
        JsonNode one = conforms("claim (one claim)", rpctl.run("--json", "claim", "--activity", a, "--user", "1"));
        assertEquals("claimed", one.get("result").asText());
        Rpctl.Result load = rpctl.run("--json", "claim", "--activity", a, "--users", "1-40", "--count", "100",
                "--duplicate-ratio", "0.2", "--read-ratio", "0.2", "--verify");
        JsonNode doc = conforms("claim (a load: --users)", load);
        assertTrue(doc.get("ops").findValuesAsText("op").contains("claim_new"), load::toString);
        JsonNode soldOut = conforms("claim (one claim)", rpctl.run("--json", "claim", "--activity", a, "--user", "99"));
        assertEquals("sold_out", soldOut.get("result").asText());
    }

    @Test
    void inspect_follows_the_schema_with_lower_case_verdicts() throws Exception {
        String a = fresh();
        rpctl.run("activity", "create", "--activity", a, "--count", "5", "--amount", "500");
        rpctl.run("claim", "--activity", a, "--user", "7");
        JsonNode doc = conforms("inspect", rpctl.run("--json", "inspect", "--user", "7", "--activity", a));
        assertEquals("consistent", doc.at("/keys/0/sides/0/verdict").asText(), doc::toString);
        conforms("inspect", rpctl.run("--json", "inspect", "--user", "8", "--activity", a));
        JsonNode survey = conforms("inspect --activity (without --user)", rpctl.run("--json", "inspect", "--activity", a));
        assertEquals(1, survey.at("/sides/0/by_kind/row").asInt(), survey::toString);
        JsonNode key = conforms("inspect --key", rpctl.run("--json", "inspect", "--key", "rp:claim:" + a + ":7"));
        assertEquals("row", key.at("/sides/0/kind").asText(), key::toString);
        assertEquals(7, key.at("/claim/user").asInt(), key::toString);
        conforms("inspect --key", rpctl.run("--json", "inspect", "--key", "not-a-claim-key"));
    }

    @Test
    void reconcile_and_warm_follow_the_schema() throws Exception {
        String a = fresh();
        rpctl.run("activity", "create", "--activity", a, "--count", "5", "--amount", "500");
        rpctl.run("claim", "--activity", a, "--user", "3");
        JsonNode dry = conforms("reconcile", rpctl.run("--json", "reconcile", "--activity", a, "--dry-run"));
        assertTrue(dry.at("/sides/0/repaired").isNull(), dry::toString);
        assertTrue(dry.at("/sides/0/verdicts").has("placeholder_but_row_exists"), dry::toString);
        conforms("reconcile", rpctl.run("--json", "reconcile", "--activity", a));
        Path users = Files.createTempFile("rpctl-warm", ".txt");
        Files.writeString(users, "3\n4\n");
        conforms("warm", rpctl.run("--json", "warm", "--activity", a, "--users-file", users.toString()));
        conforms("warm --bloom", rpctl.run("--json", "warm", "--activity", a, "--bloom"));
        Files.delete(users);
    }

    @Test
    void activity_list_follows_the_schema() throws Exception {
        conforms("activity list", rpctl.run("--json", "activity", "list", "--limit", "3"));
    }

    @Test
    void status_follows_the_schema_with_null_for_unknown() throws Exception {
        conforms("status", rpctl.run("--json", "status"));
    }

    @Test
    void pipeline_list_and_drop_follow_the_schema() throws Exception {
        String gone = "json" + Long.toString(Services.freshActivityId(), 36) + "-a";
        try (java.sql.Connection c = Services.root(); java.sql.Statement st = c.createStatement()) {
            st.execute("INSERT INTO rpctl_checkpoint (pipeline, binlog_file, binlog_position) VALUES ('" + gone + "', 'binlog.000000', 4)");
        }
        JsonNode list = conforms("pipeline list", rpctl.run("--json", "pipeline", "list"));
        boolean listed = false;
        for (JsonNode p : list.get("pipelines")) {
            listed |= p.get("pipeline").asText().equals(gone) && !p.get("configured").asBoolean();
        }
        assertTrue(listed, list::toString);
        assertEquals(gone, conforms("pipeline drop", rpctl.run("--json", "pipeline", "drop", gone)).get("dropped").asText());
    }

    @Test
    void a_failure_under_json_prints_the_error_document_on_stdout() throws Exception {
        Rpctl.Result down = rpctl.with("RPCTL_SIDE_A_NODES", "127.0.0.1:1").run("--json", "claim", "--activity", "1", "--user=-1");
        JsonNode usage = conforms("error", down);
        assertEquals(64, usage.at("/error/code").asInt());
        Rpctl.Result r = rpctl.with("RPCTL_MYSQL_PORT", "1").run("--json", "activity", "show", "--activity", "1");
        JsonNode doc = conforms("error", r);
        assertEquals(69, r.exitCode());
        assertEquals(69, doc.at("/error/code").asInt());
        assertEquals("unavailable", doc.at("/error/kind").asText());
        JsonNode parse = conforms("error", rpctl.run("--json", "claim", "--frobnicate"));
        assertEquals(64, parse.at("/error/code").asInt());
    }
}
