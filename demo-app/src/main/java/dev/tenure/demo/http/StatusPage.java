package dev.tenure.demo.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The live status page, served at {@code GET /}: a static page that polls {@code /status}. */
final class StatusPage {
    private static final byte[] HTML = load();

    private StatusPage() {}

    static byte[] html() {
        return HTML;
    }

    private static byte[] load() {
        try (InputStream in = StatusPage.class.getResourceAsStream("/status.html")) {
            if (in == null) {
                throw new IllegalStateException("status.html is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
