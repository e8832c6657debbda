package dev.rpctl.config;

/** How the Redis of one cache side runs. */
public enum SideMode { SINGLE, CLUSTER, SENTINEL }
