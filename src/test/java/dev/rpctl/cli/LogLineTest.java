package dev.rpctl.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogLineTest {
    @Test
    void a_servers_multi_line_message_and_an_exception_are_folded_onto_one_log_line() {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        @SuppressWarnings("unchecked")
        OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                (OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent>) root.getAppender("STDERR");
        PatternLayoutEncoder encoder = (PatternLayoutEncoder) appender.getEncoder();
        Logger log = (Logger) LoggerFactory.getLogger("dev.rpctl.sync.SyncService");
        LoggingEvent e = new LoggingEvent(Logger.class.getName(), log, Level.WARN, "pipeline a: {}; retrying",
                new IllegalStateException("server said:\nline two\r\nline three"), new Object[] {"first\nsecond"});
        String line = new String(encoder.encode(e), StandardCharsets.UTF_8);
        assertEquals(1, line.split("\n", -1).length - 1, line);
        assertTrue(line.endsWith("\n") && !line.contains("\r"), line);
        assertTrue(line.contains("first / second") && line.contains("line two"), line);
    }
}
