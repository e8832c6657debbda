package dev.rpctl.protocol;

import dev.rpctl.config.ConfigLoader;
import dev.rpctl.config.MappingSettings;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class KeyTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"rp:claim:<activity>:<user>", "<user>/<activity>", "a<activity><user>z",
            "<activity>-<user>-<activity>", "x:<user>:y:<activity>:"})
    void the_protocol_names_a_claim_exactly_as_the_template_says(String template) {
        MappingSettings m = new ConfigLoader(Map.of("RPCTL_MAPPING_KEY_TEMPLATE", template), dir)
                .load(null, Map.of()).mapping();
        CacheProtocol p = new CacheProtocol(m);
        for (long[] au : new long[][] {{1, 2}, {987654321012L, 7}, {0, Long.MAX_VALUE}}) {
            assertEquals(m.claimKey(au[0], au[1]), p.key(au[0], au[1]), template);
        }
    }
}
