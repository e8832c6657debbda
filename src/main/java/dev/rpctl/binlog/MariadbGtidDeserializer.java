package dev.rpctl.binlog;

import com.github.shyiko.mysql.binlog.event.MariadbGtidEventData;
import com.github.shyiko.mysql.binlog.event.deserialization.MariadbGtidEventDataDeserializer;
import com.github.shyiko.mysql.binlog.io.ByteArrayInputStream;

import java.io.IOException;
import java.util.HexFormat;

/**
 * MariaDB's GTID event with what the connector leaves unread: the XA transaction id that the
 * first part of an XA transaction carries, so that its rows can be named before its prepare.
 */
final class MariadbGtidDeserializer extends MariadbGtidEventDataDeserializer {
    static final int FL_GROUP_COMMIT_ID = 2;
    static final int FL_PREPARED_XA = 64;
    static final int FL_COMPLETED_XA = 128;

    /** The event, and the XA id where its flags say it has one (else null). */
    static final class Data extends MariadbGtidEventData {
        XaId xid;
    }

    @Override
    public MariadbGtidEventData deserialize(ByteArrayInputStream in) throws IOException {
        MariadbGtidEventData plain = super.deserialize(in);
        Data d = new Data();
        d.setSequence(plain.getSequence());
        d.setDomainId(plain.getDomainId());
        d.setServerId(plain.getServerId());
        d.setFlags(plain.getFlags());
        int flags = plain.getFlags();
        if ((flags & (FL_PREPARED_XA | FL_COMPLETED_XA)) != 0) {
            if ((flags & FL_GROUP_COMMIT_ID) != 0) {
                in.readLong(8);
            }
            long format = in.readLong(4);
            int gtridLength = in.readInteger(1);
            int bqualLength = in.readInteger(1);
            HexFormat hex = HexFormat.of();
            d.xid = new XaId(hex.formatHex(in.read(gtridLength)), hex.formatHex(in.read(bqualLength)), format);
        }
        return d;
    }
}
