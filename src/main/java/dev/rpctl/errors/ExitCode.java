package dev.rpctl.errors;

/** Process exit codes (sysexits), as documented in the README and the man page. */
public enum ExitCode {
    OK(0, "done, everything checked was consistent"),
    DIFFERENCES(1, "done, differences were found"),
    USAGE(64, "usage error"),
    DATA(65, "bad data"),
    UNAVAILABLE(69, "a server is unreachable"),
    SOFTWARE(70, "internal error"),
    TEMPFAIL(75, "temporary failure, retry later"),
    NOPERM(77, "permission denied"),
    CONFIG(78, "configuration error");

    private final int code;
    private final String meaning;

    ExitCode(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }
}
