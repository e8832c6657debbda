package dev.rpctl.config;

/** Format of log lines on stderr. */
public enum LogFormat { TEXT, JSON }
