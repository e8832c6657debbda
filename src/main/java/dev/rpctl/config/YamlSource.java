package dev.rpctl.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads a config file into raw values of known keys, each with its line. Walks the parser's
 * tokens instead of binding a tree, because a tree forgets where each value was written.
 * Values are not parsed here; structure problems (unknown keys, a mapping where a value belongs,
 * syntax errors) are collected, never thrown.
 */
final class YamlSource {

    record Scalar(String text, int line) {
    }

    /** A known key as written: one scalar, or the items of a YAML list. */
    record Entry(Key<?> key, int line, List<Scalar> values, boolean list) {
    }

    /** A message of the form {@code key: what is wrong}, at a line of the file. */
    record Problem(int line, String message) {
    }

    record Result(List<Entry> entries, List<Problem> problems) {
    }

    private static final YAMLFactory FACTORY = new YAMLFactory();

    private final List<Entry> entries = new ArrayList<>();
    private final List<Problem> problems = new ArrayList<>();
    private final Map<String, Integer> seen = new HashMap<>();

    private YamlSource() {
    }

    static Result read(String text) {
        YamlSource source = new YamlSource();
        source.document(text);
        return new Result(List.copyOf(source.entries), List.copyOf(source.problems));
    }

    private void document(String text) {
        try (JsonParser p = FACTORY.createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                return;
            }
            if (t != JsonToken.START_OBJECT) {
                problems.add(new Problem(line(p), "the top level must be a mapping of keys like mysql: and side-a:,"
                        + " got " + what(t)));
                return;
            }
            mapping(p, "");
            if (p.nextToken() != null) {
                problems.add(new Problem(line(p), "a second YAML document; a config file holds one"));
            }
        } catch (JsonProcessingException e) {
            problems.add(syntaxError(e));
        } catch (IOException e) {
            // The parser reads from a String: there is no I/O to fail.
            throw new UncheckedIOException(e);
        }
    }

    private void mapping(JsonParser p, String prefix) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            int line = line(p);
            String path = prefix.isEmpty() ? p.currentName() : prefix + "." + p.currentName();
            JsonToken value = p.nextToken();
            Optional<Key<?>> key = Keys.byName(path);
            if (key.isPresent()) {
                keyValue(p, key.get(), line, value);
            } else if (Keys.isSection(path)) {
                if (value == JsonToken.START_OBJECT) {
                    mapping(p, path);
                } else if (value != JsonToken.VALUE_NULL) {
                    problems.add(new Problem(line, path + ": expected a mapping of keys like " + firstKeyUnder(path)
                            + ", got " + what(value)));
                    p.skipChildren();
                }
            } else {
                problems.add(new Problem(line, path + ": unknown key" + suggestion(path)));
                p.skipChildren();
            }
        }
    }

    private void keyValue(JsonParser p, Key<?> key, int line, JsonToken value) throws IOException {
        Integer first = seen.putIfAbsent(key.name(), line);
        if (first != null) {
            problems.add(new Problem(line, key.name() + ": set twice, first on line " + first));
            p.skipChildren();
            return;
        }
        if (value == JsonToken.START_OBJECT) {
            problems.add(new Problem(line, key.name() + ": " + expected(key) + ", got a mapping"));
            p.skipChildren();
        } else if (value == JsonToken.START_ARRAY) {
            if (key.acceptsList()) {
                List<Scalar> items = items(p, key);
                if (items != null) {
                    entries.add(new Entry(key, line, items, true));
                }
            } else {
                problems.add(new Problem(line, key.name() + ": " + expected(key) + ", got a list (only "
                        + listKeys() + " take a list)"));
                p.skipChildren();
            }
        } else {
            Scalar scalar = scalar(p, key);
            if (scalar != null) {
                entries.add(new Entry(key, line, List.of(scalar), false));
            }
        }
    }

    /** The items of a list, or null when one of them is not a plain value (already reported). */
    private List<Scalar> items(JsonParser p, Key<?> key) throws IOException {
        List<Scalar> items = new ArrayList<>();
        boolean ok = true;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                problems.add(new Problem(line(p), key.name() + ": expected host:port in the list, got " + what(t)));
                p.skipChildren();
                ok = false;
            } else {
                Scalar scalar = scalar(p, key);
                if (scalar == null) {
                    ok = false;
                } else {
                    items.add(scalar);
                }
            }
        }
        return ok ? items : null;
    }

    private Scalar scalar(JsonParser p, Key<?> key) throws IOException {
        // Jackson hands back an alias's name as if it were the value: refuse rather than guess.
        if (p instanceof YAMLParser yaml && yaml.isCurrentAlias()) {
            problems.add(new Problem(line(p), key.name() + ": aliases (*" + p.getText()
                    + ") are not supported, write the value out"));
            return null;
        }
        String text = p.currentToken() == JsonToken.VALUE_NULL ? "" : p.getText();
        return new Scalar(text, line(p));
    }

    private static Problem syntaxError(JsonProcessingException e) {
        if (e.getCause() instanceof MarkedYAMLException m && m.getProblemMark() != null) {
            Mark mark = m.getProblemMark();
            String problem = m.getProblem() == null ? "malformed YAML" : m.getProblem();
            // At the end of the file the problem mark points past the last line; where the
            // unclosed thing started is what the reader needs.
            if ((problem.contains("end of stream") || problem.contains("<stream end>")) && m.getContextMark() != null) {
                mark = m.getContextMark();
                problem = problem + " " + m.getContext();
            } else if (problem.contains("<block end>") || problem.contains("<block mapping start>")) {
                problem = problem + " (is the indentation right?)";
            } else if (problem.contains("mapping values are not allowed")) {
                problem = problem + " (quote a value that contains \": \")";
            }
            return new Problem(mark.getLine() + 1, "syntax error: " + problem);
        }
        int line = e.getLocation() == null ? 1 : Math.max(1, e.getLocation().getLineNr());
        String message = e.getOriginalMessage() == null ? "malformed YAML" : e.getOriginalMessage().lines()
                .findFirst().orElse("malformed YAML");
        return new Problem(line, "syntax error: " + message);
    }

    static String expected(Key<?> key) {
        String type = key.secret() ? "string" : key.typeName();
        if (type.startsWith("one of")) {
            return "expected " + type;
        }
        return "expected " + ("aeiou".indexOf(type.charAt(0)) >= 0 ? "an " : "a ") + type;
    }

    private static String listKeys() {
        List<String> names = Keys.all().stream().filter(Key::acceptsList).map(Key::name).toList();
        return String.join(" and ", names);
    }

    private static String firstKeyUnder(String section) {
        return Keys.all().stream().map(Key::name).filter(n -> n.startsWith(section + ".")).findFirst()
                .orElse(section);
    }

    private static String suggestion(String path) {
        List<String> candidates = Stream.concat(Keys.all().stream().map(Key::name), Keys.sections().stream())
                .toList();
        return Spelling.closestKey(path, candidates).map(s -> ", did you mean " + s + "?").orElse("");
    }

    private static String what(JsonToken t) {
        return switch (t) {
            case START_OBJECT -> "a mapping";
            case START_ARRAY -> "a list";
            default -> "a single value";
        };
    }

    private static int line(JsonParser p) {
        return p.currentTokenLocation().getLineNr();
    }
}
