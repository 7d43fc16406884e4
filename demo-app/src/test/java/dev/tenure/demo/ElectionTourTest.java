package dev.tenure.demo;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ElectionTourTest {
    @Test
    @Timeout(value = 120)
    void tourShowsFailoverWithAHigherEpochAndTheStaleWriteRefused() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        new ElectionTour(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run();
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("[node-1] acquired leadership: epoch 1"), out);
        assertTrue(out.contains("took over"), out);
        assertTrue(out.contains("late write with epoch 1 is refused"), out);
        assertTrue(out.contains("epochs went 1 -> 2 -> 3"), out);
        assertTrue(out.contains("Done"), out);
    }
}
