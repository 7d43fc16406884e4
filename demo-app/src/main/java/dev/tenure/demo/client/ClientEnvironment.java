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
package dev.tenure.demo.client;

import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * Where the commands write and how they make a {@link KvClient}. The commands use {@link #system()} unless
 * {@link ClientCommands#run(ClientEnvironment, String...)} injects another (tests: captured streams, fake time).
 */
record ClientEnvironment(PrintStream out, PrintStream err, BiFunction<URI, Duration, KvClient> clients) {
    ClientEnvironment {
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(err, "err");
        Objects.requireNonNull(clients, "clients");
    }

    static ClientEnvironment system() {
        return new ClientEnvironment(System.out, System.err, KvClient::new);
    }
}
