package dev.rpctl.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShellCompleterTest {
    private final RpctlCommand root = new RpctlCommand(Map.of(), Path.of("."), false);
    private final Shell shell = new Shell(root, null, null);
    private final ShellCompleter completer = new ShellCompleter(Shell::model, shell.seen());

    /** The candidates for the last word of a line typed so far. */
    private List<String> complete(String typed) {
        List<String> words = Arrays.asList(typed.split(" ", -1));
        return completer.candidates(words, words.size() - 1, words.get(words.size() - 1).length());
    }

    @Test
    void commands_complete_from_their_first_letters_and_the_shell_words_too() {
        assertEquals(List.of("reconcile"), complete("rec"));
        assertTrue(complete("").containsAll(List.of("inspect", "claim", "status", "exit", "quit")), complete("").toString());
        assertEquals(List.of("create"), complete("activity cr"));
        assertEquals(List.of("inspect"), complete("rpctl ins"));
        assertEquals(List.of("inspect"), complete("-v ins"));
    }

    @Test
    void options_complete_and_the_hidden_key_flags_stay_out_of_the_way() {
        List<String> options = complete("inspect --");
        assertTrue(options.containsAll(List.of("--user", "--activity", "--key", "--repair", "--json")), options.toString());
        assertFalse(options.contains("--mysql-pool-size"), options.toString());
    }

    @Test
    void sides_allocations_and_repair_modes_complete_in_lower_case() {
        assertEquals(List.of("a", "all", "b"), complete("reconcile --side "));
        assertEquals(List.of("all"), complete("warm --activity 1 --side al"));
        assertEquals(List.of("a", "all", "b"), complete("sync-daemon --side "));
        assertEquals(List.of("a", "b"), complete("claim --activity 1 --read-side "));
        assertEquals(List.of("fixed", "random"), complete("activity create --allocation "));
        assertEquals(List.of("invalidate", "rewrite"), complete("reconcile --repair-mode "));
    }

    @Test
    void activity_and_user_ids_typed_before_are_offered_again() {
        assertEquals(List.of(), complete("inspect --activity "));
        shell.seen().record(Shell.words("claim --activity 42 --user 7"));
        shell.seen().record(Shell.words("inspect --activity=43 --user 7001"));
        assertEquals(List.of("42", "43"), complete("inspect --activity "));
        assertEquals(List.of("43"), complete("activity show --activity 43"));
        assertEquals(List.of("7", "7001"), complete("inspect --user 7"));
    }

    @Test
    void activity_ids_a_line_showed_are_offered_too() {
        root.line().seen("--activity", List.of(7L, 8L));
        assertEquals(List.of("7", "8"), complete("inspect --activity "));
    }
}
