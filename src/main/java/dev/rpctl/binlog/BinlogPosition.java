package dev.rpctl.binlog;

/**
 * A place in the binlog at a transaction boundary: file and position, and the MariaDB GTID
 * position ({@code domain-server-seq} per domain, comma separated; empty where unknown).
 */
public record BinlogPosition(String file, long position, String gtid) {

    public BinlogPosition {
        gtid = gtid == null ? "" : gtid;
    }

    public boolean hasGtid() {
        return !gtid.isBlank();
    }

    @Override
    public String toString() {
        return file + ":" + position + (hasGtid() ? " gtid " + gtid : "");
    }
}
