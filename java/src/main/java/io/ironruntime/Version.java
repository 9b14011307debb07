package io.ironruntime;

/** The engine's version, taken from the jar manifest (the Maven project version). */
public final class Version {
    public static final String VERSION = read();

    private Version() {
    }

    private static String read() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
