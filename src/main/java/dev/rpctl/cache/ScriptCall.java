package dev.rpctl.cache;

import java.util.List;

/** One call of a script: the keys it touches and its arguments. */
public record ScriptCall(List<String> keys, List<String> args) {}
