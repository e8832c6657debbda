package dev.rpctl.db;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;

/** A statement failed on a server that is up: a bug or a schema problem, exit 70. */
public final class DatabaseException extends RpctlException {
    public DatabaseException(String message, Throwable cause) {
        super(ExitCode.SOFTWARE, message, cause);
    }
}
