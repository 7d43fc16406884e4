package dev.tenure.demo.client;

import java.time.Duration;

/** How {@link KvClient} waits between retries; a seam so tests advance a fake clock instead of sleeping. */
interface Sleeper {
    Sleeper SYSTEM = d -> Thread.sleep(d.toMillis());

    void sleep(Duration duration) throws InterruptedException;
}
