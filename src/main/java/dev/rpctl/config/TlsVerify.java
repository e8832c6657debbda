package dev.rpctl.config;

/** How much of a server's TLS certificate rpctl checks. */
public enum TlsVerify {
    /** The certificate chains to the trusted CA and names the host rpctl connected to. */
    FULL,
    /** The certificate chains to the trusted CA; any host name. */
    CA,
    /** Nothing: the link is encrypted, but anyone in the middle is accepted. Logged as a warning. */
    NONE
}
