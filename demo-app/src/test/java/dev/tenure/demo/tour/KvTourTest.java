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
package dev.tenure.demo.tour;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class KvTourTest {
    @Test
    @Timeout(value = 180)
    void tourShowsFailoverTheZombieFencedAndEveryAcknowledgedValueReadable() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        new KvTour(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run();
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("1. Election:"), out);
        assertTrue(out.contains("committed at epoch 1"), out);
        assertTrue(out.contains("takes over with epoch 2"), out);
        assertTrue(out.contains("the late write was never committed"), out);
        assertTrue(out.matches("(?s).*refused [1-9][0-9]* of its epoch-1 messages.*"), out);
        assertTrue(out.contains("outcome unknown"), out);
        assertTrue(out.contains("takes over with epoch 3"), out);
        assertTrue(out.contains("city-8 = value 8"), out);
        assertTrue(out.contains("nothing lost"), out);
    }
}
