package dev.rpctl.cache;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A server-side script as the protocol wrote it: its text, and the SHA-1 it is called by. A side
 * loads the text wherever a server answers NOSCRIPT (a restart, a failover, a new cluster node).
 */
public record LuaScript(String name, String text, String sha) {

    public static LuaScript of(String name, String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
            return new LuaScript(name, text, HexFormat.of().formatHex(digest));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
