package dev.rpctl.binlog;

import com.github.shyiko.mysql.binlog.event.EventData;
import com.github.shyiko.mysql.binlog.event.EventType;
import com.github.shyiko.mysql.binlog.event.LRUCache;
import com.github.shyiko.mysql.binlog.event.TableMapEventData;
import com.github.shyiko.mysql.binlog.event.deserialization.DeleteRowsEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.EventHeaderV4Deserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.FormatDescriptionEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.GtidEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.MariadbGtidListEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.NullEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.PreviousGtidSetDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.QueryEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.RotateEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.TableMapEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.TransactionPayloadEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.UpdateRowsEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.WriteRowsEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.XAPrepareEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.XidEventDataDeserializer;
import com.github.shyiko.mysql.binlog.io.ByteArrayInputStream;

import java.io.IOException;
import java.io.Serializable;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.LongPredicate;

/** How the reader decodes events: only those it reads, and rows of mapped tables only. */
final class EventDecoding {
    private EventDecoding() {
    }

    /**
     * Decodes only the events a pipeline reads (others arrive without data), and the rows of a
     * mapped table only: a rows event of any other table is skipped whole, undecoded.
     */
    static EventDeserializer deserializer(LongPredicate unmapped) {
        return deserializer(unmapped, Integer.MAX_VALUE);
    }

    /**
     * As {@link #deserializer(LongPredicate)}, and a rows event whose data is longer than
     * {@code maxEventBytes} is not decoded: it arrives as {@link Oversized}, its data skipped as it
     * streams past (the connector reads an event below 16 MiB from the socket as it decodes it).
     * Other events are left unbounded: the connector casts some (TABLE_MAP), and a query event is
     * a statement (DDL, BEGIN), whose loss would leave the column tracking wrong.
     */
    static EventDeserializer deserializer(LongPredicate unmapped, int maxEventBytes) {
        Map<Long, TableMapEventData> tableMaps = new LRUCache<>(100, 0.75f, 10_000);
        Map<EventType, EventDataDeserializer> by = new EnumMap<>(EventType.class);
        by.put(EventType.FORMAT_DESCRIPTION, new FormatDescriptionEventDataDeserializer());
        by.put(EventType.ROTATE, new RotateEventDataDeserializer());
        by.put(EventType.QUERY, new QueryEventDataDeserializer());
        by.put(EventType.TABLE_MAP, new TableMapEventDataDeserializer());
        by.put(EventType.XID, new XidEventDataDeserializer());
        by.put(EventType.XA_PREPARE, new XAPrepareEventDataDeserializer());
        by.put(EventType.GTID, new GtidEventDataDeserializer());
        by.put(EventType.PREVIOUS_GTIDS, new PreviousGtidSetDeserializer());
        by.put(EventType.MARIADB_GTID, new MariadbGtidDeserializer());
        by.put(EventType.MARIADB_GTID_LIST, new MariadbGtidListEventDataDeserializer());
        // decoded so that handle() can refuse it by name instead of the reader failing on it
        by.put(EventType.TRANSACTION_PAYLOAD, new TransactionPayloadEventDataDeserializer());
        for (boolean ext : new boolean[] {false, true}) {
            by.put(ext ? EventType.EXT_WRITE_ROWS : EventType.WRITE_ROWS,
                    new SkippingWrites(tableMaps, unmapped).setMayContainExtraInformation(ext));
            by.put(ext ? EventType.EXT_UPDATE_ROWS : EventType.UPDATE_ROWS,
                    new SkippingUpdates(tableMaps, unmapped).setMayContainExtraInformation(ext));
            by.put(ext ? EventType.EXT_DELETE_ROWS : EventType.DELETE_ROWS,
                    new SkippingDeletes(tableMaps, unmapped).setMayContainExtraInformation(ext));
        }
        if (maxEventBytes < Integer.MAX_VALUE) {
            by.replaceAll((type, inner) -> EventType.isRowMutation(type) ? new Bounded(type, inner, maxEventBytes) : inner);
        }
        EventDeserializer d = new EventDeserializer(new EventHeaderV4Deserializer(), new NullEventDataDeserializer(), by, tableMaps);
        d.setCompatibilityMode(EventDeserializer.CompatibilityMode.DATE_AND_TIME_AS_LONG_MICRO,
                EventDeserializer.CompatibilityMode.CHAR_AND_BINARY_AS_BYTE_ARRAY);
        return d;
    }

    /**
     * An event whose data was longer than the bound, not decoded.
     *
     * @param tableId the table of the rows event
     */
    record Oversized(EventType type, long tableId, long bytes) implements EventData {
    }

    /** Decodes an event's data only when it is within the bound. */
    private record Bounded(EventType type, EventDataDeserializer<?> inner, int max) implements EventDataDeserializer<EventData> {
        @Override
        public EventData deserialize(ByteArrayInputStream in) throws IOException {
            int bytes = in.available();  // the event's data, as the connector blocked it off
            if (bytes <= max) {
                return inner.deserialize(in);
            }
            // a rows event starts with its 6-byte table id; the connector skips the rest of the block
            return new Oversized(type, in.readLong(6), bytes);
        }
    }

    /** Reads past the rest of a rows event; the row deserializers then see nothing left and stop. */
    private static Serializable[] skipRest(ByteArrayInputStream in) throws IOException {
        long left = in.available();
        while (left > 0) {
            long n = in.skip(left);
            if (n <= 0) {
                break;
            }
            left -= n;
        }
        return null;
    }

    private static final class SkippingWrites extends WriteRowsEventDataDeserializer {
        private final LongPredicate unmapped;

        SkippingWrites(Map<Long, TableMapEventData> tableMaps, LongPredicate unmapped) {
            super(tableMaps);
            this.unmapped = unmapped;
        }

        @Override
        protected Serializable[] deserializeRow(long tableId, BitSet included, ByteArrayInputStream in) throws IOException {
            return unmapped.test(tableId) ? skipRest(in) : super.deserializeRow(tableId, included, in);
        }
    }

    private static final class SkippingUpdates extends UpdateRowsEventDataDeserializer {
        private final LongPredicate unmapped;

        SkippingUpdates(Map<Long, TableMapEventData> tableMaps, LongPredicate unmapped) {
            super(tableMaps);
            this.unmapped = unmapped;
        }

        @Override
        protected Serializable[] deserializeRow(long tableId, BitSet included, ByteArrayInputStream in) throws IOException {
            return unmapped.test(tableId) ? skipRest(in) : super.deserializeRow(tableId, included, in);
        }
    }

    private static final class SkippingDeletes extends DeleteRowsEventDataDeserializer {
        private final LongPredicate unmapped;

        SkippingDeletes(Map<Long, TableMapEventData> tableMaps, LongPredicate unmapped) {
            super(tableMaps);
            this.unmapped = unmapped;
        }

        @Override
        protected Serializable[] deserializeRow(long tableId, BitSet included, ByteArrayInputStream in) throws IOException {
            return unmapped.test(tableId) ? skipRest(in) : super.deserializeRow(tableId, included, in);
        }
    }
}
