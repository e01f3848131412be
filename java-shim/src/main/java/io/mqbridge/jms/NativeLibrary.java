package io.mqbridge.jms;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Loads the native half once per class loader: from {@code -Dmqbridge.native.path=FILE} if
 * set, else the copy packaged in the jar under {@code native/linux-x86_64/}, extracted to a
 * temporary file (deleted on exit) and passed to {@link System#load}.
 */
public final class NativeLibrary {
    static final String RESOURCE = "/native/linux-x86_64/libmqbridge_jni.so";
    private static boolean loaded;

    private NativeLibrary() {}

    /** Load the library (idempotent); an {@link UnsatisfiedLinkError} says why it failed. */
    public static synchronized void load() {
        if (loaded) {
            return;
        }
        String explicit = System.getProperty("mqbridge.native.path");
        if (explicit != null && !explicit.isEmpty()) {
            System.load(Path.of(explicit).toAbsolutePath().toString());
            loaded = true;
            return;
        }
        String os = System.getProperty("os.name", "").toLowerCase();
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new UnsatisfiedLinkError("mqbridge-jms carries a native library for linux-x86_64 only, not "
                    + os + "/" + arch + "; set -Dmqbridge.native.path=");
        }
        try (InputStream in = NativeLibrary.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("native library " + RESOURCE + " is missing from the jar");
            }
            Path tmp = Files.createTempFile("libmqbridge_jni", ".so");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            System.load(tmp.toAbsolutePath().toString());
            loaded = true;
        } catch (IOException e) {
            UnsatisfiedLinkError err = new UnsatisfiedLinkError("cannot extract " + RESOURCE + ": " + e);
            err.initCause(e);
            throw err;
        }
    }
}
