package dev.rpctl.kafka;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The golden fixtures of the foreign formats under src/test/resources/kafka/FORMAT: one message
 * value per file (an empty file is a null value), applied in file order, and expected.txt with
 * the changes each one must read as.
 */
public final class FormatFixtures {

    private FormatFixtures() {
    }

    public static Path dir(String format) {
        return Path.of("src", "test", "resources", "kafka", format);
    }

    /** The fixture files of a format in order, each with the changes it must read as (rendered by {@link #render}). */
    public static Map<String, String> expected(String format) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(dir(format).resolve("expected.txt"))) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(": ");
            out.put(line.substring(0, colon), line.substring(colon + 2));
        }
        return out;
    }

    /** A file's message value; null for an empty file (Kafka's null value). */
    public static byte[] value(String format, String file) throws IOException {
        byte[] b = Files.readAllBytes(dir(format).resolve(file));
        return b.length == 0 ? null : b;
    }

    public static MessageFormat format(String name) {
        return switch (name) {
            case "debezium" -> new DebeziumFormat("rp_claim", "version");
            case "maxwell" -> new MaxwellFormat("rp_claim", "version");
            case "canal" -> new CanalFormat("rp_claim", "version");
            default -> throw new IllegalArgumentException(name);
        };
    }

    public static String render(List<Change> changes) {
        if (changes.isEmpty()) {
            return "none";
        }
        List<String> out = new ArrayList<>();
        for (Change c : changes) {
            out.add(switch (c.kind()) {
                case ROW -> "row " + c.activityId() + ":" + c.userId() + " v" + c.row().version() + " amount=" + c.row().amount()
                        + " status=" + c.row().status() + " request=" + c.row().requestId() + " updated=" + c.row().updatedAtMillis();
                case TOMBSTONE -> "tombstone " + c.activityId() + ":" + c.userId() + " v" + c.tombstoneVersion();
                case BEAT -> "beat " + c.beatMillis();
            });
        }
        return String.join("; ", out);
    }
}
