/*
 * Copyright 2026 The Tenure authors
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
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
