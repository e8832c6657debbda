package dev.rpctl.errors;

/**
 * A failure the operator can act on. The message is the one line printed on stderr, so it says
 * what is wrong and, where there is one, what to do.
 */
public class RpctlException extends RuntimeException {
    private final ExitCode exitCode;

    public RpctlException(ExitCode exitCode, String message) {
        this(exitCode, message, null);
    }

    public RpctlException(ExitCode exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public ExitCode exitCode() {
        return exitCode;
    }

    /** A server (MySQL, Redis, Kafka) does not answer: exit 69. */
    public static RpctlException unavailable(String what, String address, Throwable cause) {
        String reason = cause == null ? "" : ": " + rootMessage(cause);
        return new RpctlException(ExitCode.UNAVAILABLE,
                what + " at " + address + " is unreachable" + reason, cause);
    }

    public static RpctlException usage(String message) {
        return new RpctlException(ExitCode.USAGE, message);
    }

    public static RpctlException badData(String message) {
        return new RpctlException(ExitCode.DATA, message);
    }

    public static RpctlException temporary(String message) {
        return new RpctlException(ExitCode.TEMPFAIL, message);
    }

    /** The innermost message, which is usually the one that names the real problem. */
    public static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage();
        if (m == null || m.isBlank()) {
            return root.getClass().getSimpleName();
        }
        return oneLine(m);
    }

    /** A message folded onto one line: a server's multi-line text never breaks a log or error line. */
    public static String oneLine(String m) {
        return m == null ? "" : m.strip().replaceAll("\\s*\\R\\s*", " / ");
    }
}
