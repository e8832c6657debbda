package dev.rpctl.warm;

import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * User ids read from a file or stdin, one a line. Blank lines and lines starting with '#' are
 * skipped; any other line that is not a positive integer is a bad line, kept with its number.
 */
public record UserList(long[] users, List<BadLine> bad) {

    public record BadLine(long number, String text) {}

    public static UserList read(BufferedReader in) throws IOException {
        long[] users = new long[1024];
        int n = 0;
        List<BadLine> bad = new ArrayList<>();
        long number = 0;
        for (String line; (line = in.readLine()) != null; ) {
            number++;
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            long u;
            try {
                u = Long.parseLong(t);
            } catch (NumberFormatException e) {
                u = 0;
            }
            if (u < 1) {
                bad.add(new BadLine(number, t.length() > 60 ? t.substring(0, 60) + "..." : t));
                continue;
            }
            if (n == users.length) {
                users = Arrays.copyOf(users, n * 2);
            }
            users[n++] = u;
        }
        return new UserList(Arrays.copyOf(users, n), bad);
    }
}
