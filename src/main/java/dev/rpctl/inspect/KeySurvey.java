package dev.rpctl.inspect;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.KeyScan;
import dev.rpctl.claim.ClaimRepository;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import dev.rpctl.protocol.UndecodableEntryException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Surveys an activity's keys on each side by SCAN (counts by kind, TTLs, entries holding a row
 * the primary does not have), and decodes any one key: what to look at first in an incident.
 */
public final class KeySurvey {
    private static final int BATCH = 1000;
    private static final int EXAMPLES = 5;

    /** One side's keys of an activity. ttl figures are null when no key has one. */
    public record SideSummary(String side, long keys, Map<String, Long> byKind, long orphans, List<String> orphanExamples,
                              Long ttlMinMillis, Long ttlMaxMillis, long noTtl, String unreachable) {}

    public record Summary(long activityId, long primaryRows, List<SideSummary> sides) {
        public boolean consistent() {
            return sides.stream().allMatch(s -> s.orphans() == 0 && s.unreachable() == null);
        }
    }

    /** One key decoded on one side: its kind and fields, or why it does not decode. */
    public record Decoded(String side, String raw, Entry entry, String undecodable, long pttlMillis, String unreachable) {}

    private final String keyTemplate;
    private final List<CacheSide> sides;
    private final ClaimRepository primary;

    public KeySurvey(String keyTemplate, List<CacheSide> sides, ClaimRepository primary) {
        this.keyTemplate = keyTemplate;
        this.sides = sides;
        this.primary = primary;
    }

    public Summary activity(long activityId, long primaryRows) {
        String match = pattern(activityId);
        Pattern userOf = keyPattern(activityId);
        List<SideSummary> out = new ArrayList<>();
        for (CacheSide side : sides) {
            long[] counts = new long[4];
            Map<String, Long> byKind = new LinkedHashMap<>();
            for (Entry.Kind k : Entry.Kind.values()) {
                byKind.put(k.label(), 0L);
            }
            byKind.put("undecodable", 0L);
            List<String> examples = new ArrayList<>();
            long[] ttl = {Long.MAX_VALUE, Long.MIN_VALUE};
            try {
                KeyScan.scan(side, match, BATCH, batch -> {
                    List<Long> rowUsers = new ArrayList<>();
                    List<String> rowKeys = new ArrayList<>();
                    for (KeyScan.Found f : batch) {
                        Matcher m = userOf.matcher(f.key());
                        if (f.value() == null || !m.matches()) {
                            continue;
                        }
                        counts[0]++;
                        String kind;
                        try {
                            Entry e = Entry.decode(f.value());
                            kind = e.kind().label();
                            if (e.kind() == Entry.Kind.ROW) {
                                rowUsers.add(Long.parseLong(m.group(1)));
                                rowKeys.add(f.key());
                            }
                        } catch (UndecodableEntryException e) {
                            kind = "undecodable";
                        }
                        byKind.merge(kind, 1L, Long::sum);
                        if (f.pttlMillis() >= 0) {
                            ttl[0] = Math.min(ttl[0], f.pttlMillis());
                            ttl[1] = Math.max(ttl[1], f.pttlMillis());
                        } else if (f.pttlMillis() == -1) {
                            counts[2]++;
                        }
                    }
                    // an entry holding a row is an orphan when the primary has no such claim
                    long[] ids = rowUsers.stream().mapToLong(Long::longValue).toArray();
                    Map<Long, ClaimRow> rows = primary.findUsers(activityId, ids, 0, ids.length);
                    for (int i = 0; i < ids.length; i++) {
                        if (!rows.containsKey(ids[i])) {
                            counts[1]++;
                            if (examples.size() < EXAMPLES) {
                                examples.add(rowKeys.get(i));
                            }
                        }
                    }
                });
            } catch (RpctlException e) {
                if (e.exitCode() == ExitCode.CONFIG) {
                    throw e; // a side rpctl may not use as configured (its certificate, a login) is not a side that is down
                }
                out.add(new SideSummary(side.name(), 0, byKind, 0, List.of(), null, null, 0, e.getMessage()));
                continue;
            }
            boolean anyTtl = ttl[0] != Long.MAX_VALUE;
            out.add(new SideSummary(side.name(), counts[0], byKind, counts[1], examples,
                    anyTtl ? ttl[0] : null, anyTtl ? ttl[1] : null, counts[2], null));
        }
        return new Summary(activityId, primaryRows, out);
    }

    /** The (activity, user) a key of the template names, if it is one. */
    public Optional<long[]> parse(String key) {
        Matcher m = Pattern.compile(templateRegex()).matcher(key);
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new long[] {Long.parseLong(m.group("activity")), Long.parseLong(m.group("user"))});
    }

    /** Any key, decoded on every side. */
    public List<Decoded> decode(String key) {
        List<Decoded> out = new ArrayList<>();
        for (CacheSide side : sides) {
            String raw;
            long ttl;
            try {
                raw = side.get(key);
                ttl = side.pttl(key);
            } catch (RpctlException e) {
                if (e.exitCode() == ExitCode.CONFIG) {
                    throw e; // a side rpctl may not use as configured (its certificate, a login) is not a side that is down
                }
                out.add(new Decoded(side.name(), null, null, null, -3, e.getMessage()));
                continue;
            }
            Entry entry = null;
            String why = null;
            if (raw != null) {
                try {
                    entry = Entry.decode(raw);
                } catch (UndecodableEntryException e) {
                    why = e.getMessage();
                }
            }
            out.add(new Decoded(side.name(), raw, entry, why, ttl, null));
        }
        return out;
    }

    private String pattern(long activityId) {
        StringBuilder sb = new StringBuilder();
        for (String part : keyTemplate.split("(?=<activity>|<user>)|(?<=<activity>|<user>)", -1)) {
            sb.append(switch (part) {
                case "<activity>" -> Long.toString(activityId);
                case "<user>" -> "*";
                default -> KeyScan.literal(part);
            });
        }
        return sb.toString();
    }

    /** Matches the keys of one activity, the user id as group 1 (the glob's * matches more than digits). */
    private Pattern keyPattern(long activityId) {
        StringBuilder sb = new StringBuilder();
        for (String part : keyTemplate.split("(?=<activity>|<user>)|(?<=<activity>|<user>)", -1)) {
            sb.append(switch (part) {
                case "<activity>" -> Long.toString(activityId);
                case "<user>" -> "(\\d+)";
                default -> Pattern.quote(part);
            });
        }
        return Pattern.compile(sb.toString());
    }

    private String templateRegex() {
        StringBuilder sb = new StringBuilder();
        for (String part : keyTemplate.split("(?=<activity>|<user>)|(?<=<activity>|<user>)", -1)) {
            sb.append(switch (part) {
                case "<activity>" -> "(?<activity>\\d+)";
                case "<user>" -> "(?<user>\\d+)";
                default -> Pattern.quote(part);
            });
        }
        return sb.toString();
    }
}
