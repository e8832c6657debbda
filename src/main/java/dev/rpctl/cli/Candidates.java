package dev.rpctl.cli;

import dev.rpctl.claim.Allocation;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/** The values an option takes, as completion offers them (shell, bash, zsh), spelt as they are typed. */
final class Candidates {
    private Candidates() {
    }

    /** --side of reconcile, warm, sync-daemon. */
    static final class Sides implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("a", "b", "all").iterator();
        }
    }

    /** A single side: --read-side. */
    static final class OneSide implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("a", "b").iterator();
        }
    }

    static final class Allocations implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Arrays.stream(Allocation.values()).map(Allocation::label).iterator();
        }
    }

    static final class RepairModes implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("rewrite", "invalidate").iterator();
        }
    }
}
