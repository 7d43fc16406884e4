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
package dev.tenure.demo.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SessionFileTest {
    @TempDir
    Path dir;

    @Test
    void aWrittenSessionReadsBackAndReplacesThePreviousOne() throws IOException {
        Path file = dir.resolve("session");
        SessionFile.write(file, new SessionFile.Session(0x1234abcdL, new byte[] {1, 2, (byte) 0xff}));
        SessionFile.write(file, new SessionFile.Session(-2L, new byte[] {9}));
        SessionFile.Session read = SessionFile.read(file);
        assertEquals(-2L, read.id());
        assertArrayEquals(new byte[] {9}, read.password());
    }

    @Test
    void aMalformedSessionFileIsRefusedNamingTheFile() throws IOException {
        Path file = dir.resolve("session");
        for (String bad : new String[] {"", "abc", "zz 00", "12 0g", "1 2 3"}) {
            Files.writeString(file, bad);
            IOException e = assertThrows(IOException.class, () -> SessionFile.read(file), bad);
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
    }
}
