package dev.rpctl;
public final class Main { public static void main(String[] a) {} }
