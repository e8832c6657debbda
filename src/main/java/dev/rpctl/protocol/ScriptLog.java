package dev.rpctl.protocol;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.LuaScript;
import dev.rpctl.cache.ScriptCall;
import dev.rpctl.errors.RpctlException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Every script call the protocol makes, at DEBUG ({@code -vv}): the side, the script, its keys and
 * what it answered (a compare-and-set's outcome per key in words), or why it failed.
 */
final class ScriptLog {
    private static final Logger log = LoggerFactory.getLogger(ScriptLog.class);

    private ScriptLog() {
    }

    static Object run(CacheSide side, LuaScript s, List<String> keys, List<String> args) {
        if (!log.isDebugEnabled()) {
            return side.run(s, keys, args);
        }
        try {
            Object reply = side.run(s, keys, args);
            call(side.name(), s, keys, reply);
            return reply;
        } catch (RuntimeException e) {
            log.debug("side {}: {} {}: failed: {}", side.name(), s.name(), keys, RpctlException.rootMessage(e));
            throw e;
        }
    }

    static List<Object> runAll(CacheSide side, List<LuaScript> scripts, List<ScriptCall> calls) {
        if (!log.isDebugEnabled()) {
            return side.runAll(scripts, calls);
        }
        try {
            List<Object> replies = side.runAll(scripts, calls);
            calls(side.name(), scripts, calls, replies);
            return replies;
        } catch (RuntimeException e) {
            for (int i = 0; i < calls.size(); i++) {
                log.debug("side {}: {} {}: failed: {}", side.name(), scripts.get(i).name(), calls.get(i).keys(),
                        RpctlException.rootMessage(e));
            }
            throw e;
        }
    }

    /** Calls made on a link whose replies were read later (replies: as many as calls, or one per call). */
    static void calls(String side, List<LuaScript> scripts, List<ScriptCall> calls, List<Object> replies) {
        if (!log.isDebugEnabled()) {
            return;
        }
        for (int i = 0; i < calls.size(); i++) {
            call(side, scripts.get(i), calls.get(i).keys(), i < replies.size() ? replies.get(i) : null);
        }
    }

    private static void call(String side, LuaScript s, List<String> keys, Object reply) {
        log.debug("side {}: {} {} -> {}", side, s.name(), keys.size() == 1 ? keys.get(0) : keys, describe(s, reply));
    }

    private static Object describe(LuaScript s, Object reply) {
        if (s == Scripts.CAS && reply instanceof List<?> codes) {
            List<String> words = new ArrayList<>(codes.size());
            for (Object c : codes) {
                long v = c instanceof Long l ? l : Long.MIN_VALUE;
                words.add(v == 1 ? "written" : v == 0 ? "kept" : v == -1 ? "undecodable" : String.valueOf(c));
            }
            return words.size() == 1 ? words.get(0) : words;
        }
        if (reply == null) {
            return "nil";
        }
        return reply instanceof String str ? '"' + str + '"' : reply;
    }
}
