package dev.rpctl.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import picocli.CommandLine.Help.Ansi;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.ArrayList;
import java.util.List;

/**
 * A command's writers and how to render on them: aligned tables with upper-case headers and no
 * borders, one JSON document under --json, colour only on a terminal without --no-color/NO_COLOR.
 */
public final class Output {
    /** The version of the --json documents (docs/json.md); raised when a key changes meaning or goes away. */
    public static final int SCHEMA = 1;

    /** The mapper of the JSON documents, built on the first one: a command printing a table never loads Jackson. */
    private static final class Json {
        // snake_case keys, enum values as lower-case snake_case words, times as RFC 3339
        static final ObjectMapper MAPPER = new ObjectMapper()
                .findAndRegisterModules()
                .registerModule(new SimpleModule("rpctl-enums").addSerializer(Enum.class, new StdSerializer<Enum>(Enum.class) {
                    @Override
                    public void serialize(Enum value, JsonGenerator gen, SerializerProvider provider) throws IOException {
                        gen.writeString(word(value));
                    }
                }).addKeySerializer(Enum.class, new StdSerializer<Enum>(Enum.class) {
                    @Override
                    public void serialize(Enum value, JsonGenerator gen, SerializerProvider provider) throws IOException {
                        gen.writeFieldName(word(value));
                    }
                }))
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(SerializationFeature.INDENT_OUTPUT)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    }

    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean json;
    private final Ansi ansi;
    private boolean printed;

    public Output(PrintWriter out, PrintWriter err, boolean json, boolean color) {
        this.out = out;
        this.err = err;
        this.json = json;
        this.ansi = color ? Ansi.ON : Ansi.OFF;
    }

    public PrintWriter out() {
        return out;
    }

    public PrintWriter err() {
        return err;
    }

    public boolean json() {
        return json;
    }

    public boolean color() {
        return ansi == Ansi.ON;
    }

    /** Renders picocli markup, e.g. {@code @|green consistent|@}; plain text when colour is off. */
    public String markup(String text) {
        return ansi.string(text);
    }

    public void line(String text) {
        out.println(markup(text));
        out.flush();
    }

    /** Prints one JSON document, its first key {@code schema}. */
    public void json(Object document) {
        try {
            out.println(Json.MAPPER.writeValueAsString(versioned(document)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        printed = true;
        out.flush();
    }

    /** One compact JSON line, for streams (JSON Lines). */
    public void jsonLine(Object document) {
        try {
            out.println(Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(versioned(document)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        printed = true;
        out.flush();
    }

    /** Whether a JSON document has been printed. */
    boolean printed() {
        return printed;
    }

    private static ObjectNode versioned(Object document) {
        JsonNode tree = Json.MAPPER.valueToTree(document);
        ObjectNode doc = Json.MAPPER.createObjectNode();
        doc.put("schema", SCHEMA);
        if (tree instanceof ObjectNode o) {
            doc.setAll(o);
        } else {
            doc.set("items", tree);
        }
        return doc;
    }

    /** An enum value as the JSON documents spell it: {@code CLAIM_NEW} is {@code claim_new}. */
    public static String word(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    /** A time as JSON spells it: RFC 3339 in UTC with milliseconds; null stays null. */
    public static String time(java.time.Instant t) {
        return t == null ? null : java.time.format.DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
    }

    /** Seconds as whole milliseconds. */
    public static long ms(double seconds) {
        return Math.round(seconds * 1000);
    }

    /** Columns separated by two spaces, padded to the widest cell; cells may carry markup. */
    public void table(List<String> headers, List<List<String>> rows) {
        int n = headers.size();
        int[] width = new int[n];
        List<List<String>> all = new ArrayList<>();
        all.add(headers.stream().map(String::toUpperCase).toList());
        all.addAll(rows);
        for (List<String> r : all) {
            for (int i = 0; i < n; i++) {
                width[i] = Math.max(width[i], visible(cell(r, i)).length());
            }
        }
        for (List<String> r : all) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) {
                String c = cell(r, i);
                sb.append(markup(c));
                if (i < n - 1) {
                    sb.append(" ".repeat(width[i] - visible(c).length() + 2));
                }
            }
            out.println(sb.toString().stripTrailing());
        }
        out.flush();
    }

    private static String cell(List<String> r, int i) {
        return i < r.size() && r.get(i) != null ? r.get(i) : "";
    }

    /** The text a cell shows, without its markup. */
    static String visible(String s) {
        return Ansi.OFF.string(s);
    }
}
