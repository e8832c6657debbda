package dev.rpctl.cli;

import dev.rpctl.errors.RpctlException;
import dev.rpctl.warm.UserList;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** The user ids of {@code warm --users-file}: a file, or - for stdin; bad lines named on stderr with their numbers. */
final class UsersFile {
    private UsersFile() {
    }

    /** The ids; with strict, a bad line refuses the whole file (65) before anything is warmed. */
    static long[] read(String file, boolean strict, Output out) throws IOException {
        String where = file.equals("-") ? "stdin" : file;
        UserList list = parse(file);
        for (UserList.BadLine b : list.bad()) {
            out.err().println("rpctl: " + where + ":" + b.number() + ": not a user id: \"" + b.text() + "\""
                    + (strict ? "" : "; skipped"));
        }
        out.err().flush();
        if (strict && !list.bad().isEmpty()) {
            throw RpctlException.badData(list.bad().size() + " bad line(s) in " + where + "; nothing was warmed");
        }
        return list.users();
    }

    private static UserList parse(String file) throws IOException {
        if (file.equals("-")) {
            return UserList.read(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
        }
        try (BufferedReader in = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
            return UserList.read(in);
        } catch (NoSuchFileException e) {
            throw RpctlException.usage("--users-file " + file + ": no such file");
        }
    }
}
