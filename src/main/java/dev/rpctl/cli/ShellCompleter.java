package dev.rpctl.cli;

import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;
import picocli.AutoComplete;
import picocli.CommandLine.Model.CommandSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Completion in the shell: commands, options and option values from the picocli model (the same
 * that makes the bash and zsh scripts), plus the activity and user ids typed earlier.
 */
final class ShellCompleter implements Completer {
    private final Supplier<CommandSpec> model;
    private final SeenIds seen;
    private CommandSpec spec;

    ShellCompleter(Supplier<CommandSpec> model, SeenIds seen) {
        this.model = model;
        this.seen = seen;
    }

    @Override
    public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
        for (String c : candidates(line.words(), line.wordIndex(), line.wordCursor())) {
            candidates.add(new Candidate(c, c, null, null, null, null, !c.endsWith("=")));
        }
    }

    /** The complete words that may stand at wordIndex, given the first wordCursor characters of it typed. */
    List<String> candidates(List<String> typed, int wordIndex, int wordCursor) {
        List<String> words = new ArrayList<>(typed);
        int index = wordIndex;
        if (index > 0 && words.get(0).equals("rpctl")) {
            words.remove(0);
            index--;
        }
        while (words.size() <= index) {
            words.add("");
        }
        String prefix = words.get(index).substring(0, Math.min(wordCursor, words.get(index).length()));
        List<String> out = new ArrayList<>();
        if (index == 0) {
            for (String own : new String[] {"exit", "quit"}) {
                if (own.startsWith(prefix)) {
                    out.add(own);
                }
            }
        }
        if (index > 0) {
            for (String id : seen.candidates(words.get(index - 1))) {
                if (id.startsWith(prefix)) {
                    out.add(id);
                }
            }
        }
        List<CharSequence> suffixes = new ArrayList<>();
        AutoComplete.complete(spec(), words.toArray(String[]::new), index, prefix.length(), prefix.length(), suffixes);
        suffixes.stream().map(s -> prefix + s).filter(w -> !out.contains(w)).sorted().forEach(out::add);
        return out;
    }

    private synchronized CommandSpec spec() {
        if (spec == null) {
            spec = model.get();
        }
        return spec;
    }
}
