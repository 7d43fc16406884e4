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
