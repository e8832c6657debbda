package dev.rpctl.config;

/** Where the effective value of a key came from, lowest precedence first. */
public enum Origin { DEFAULT, FILE, ENV, FLAG }
