package dev.rpctl.config;

import java.util.Collection;
import java.util.Optional;

/** "Did you mean" suggestions for misspelt keys and variables. */
final class Spelling {

    private Spelling() {
    }

    /** The candidate closest to {@code word}, if it is within {@code maxDistance} edits. */
    static Optional<String> closest(String word, Collection<String> candidates, int maxDistance) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : candidates) {
            int d = distance(word, candidate);
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        return bestDistance <= maxDistance ? Optional.of(best) : Optional.empty();
    }

    /** A suggestion for a mistyped key: more slack for longer names, where typos add up. */
    static Optional<String> closestKey(String word, Collection<String> candidates) {
        return closest(word, candidates, Math.max(2, word.length() / 6));
    }

    /**
     * Edit distance counting a swap of neighbours as one edit (optimal string alignment), because
     * {@code mysql.prot} is one slip, not two.
     */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = Character.toLowerCase(a.charAt(i - 1)) == Character.toLowerCase(b.charAt(j - 1)) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
