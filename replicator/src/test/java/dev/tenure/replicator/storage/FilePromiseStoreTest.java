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
package dev.tenure.replicator.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Promise;
import dev.tenure.replicator.storage.LogConfig.SyncPolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FilePromiseStoreTest {
    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("promise");
    }

    @Test
    void aMissingFileHoldsNoPromise() throws IOException {
        assertEquals(Promise.NONE, new FilePromiseStore(file()).load());
    }

    @Test
    void aStoredPromiseIsLoadedBackByAnotherInstance() throws IOException {
        for (Promise p : new Promise[] {
            new Promise(1, "a"),
            new Promise(7, "replica b/with spaces+ünïcode"),
            new Promise(9, ""),
            new Promise(Long.MAX_VALUE, "z")
        }) {
            new FilePromiseStore(file()).store(p);
            assertEquals(p, new FilePromiseStore(file()).load());
        }
        assertFalse(Files.exists(AtomicFiles.tempFor(file())), "no temporary file is left behind");
        String text = Files.readString(file());
        assertTrue(text.startsWith("tenure-promise 1 " + Long.MAX_VALUE + " z "), text);
    }

    @Test
    void aCorruptedFileIsRefusedWithAnErrorNamingIt() throws IOException {
        FilePromiseStore store = new FilePromiseStore(file());
        store.store(new Promise(12, "leader-a"));
        String good = Files.readString(file());

        for (String bad : new String[] {
            good.replace(" 12 ", " 13 "), // checksum mismatch
            good.replace("leader-a", "leader-b"),
            good.substring(0, good.length() - 4), // truncated
            "",
            "tenure-promise 1 12\n",
            "tenure-promise 1 x leader-a 0\n",
            "tenure-promise 2" + good.substring("tenure-promise 1".length()),
        }) {
            Files.writeString(file(), bad);
            IOException e = assertThrows(IOException.class, () -> new FilePromiseStore(file()).load(), bad);
            assertTrue(e.getMessage().contains(file().toString()), e.getMessage());
            assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
        }
        Files.write(file(), new byte[] {(byte) 0xff, (byte) 0xfe, 0x00});
        IOException e = assertThrows(IOException.class, () -> new FilePromiseStore(file()).load());
        assertTrue(e.getMessage().contains(file().toString()), e.getMessage());
    }

    @Test
    void aTemporaryFileLeftByACrashIsIgnoredAndOverwritten() throws IOException {
        FilePromiseStore store = new FilePromiseStore(file());
        store.store(new Promise(3, "a"));
        Files.write(AtomicFiles.tempFor(file()), "tenure-promise 1 4 half-writ".getBytes(StandardCharsets.UTF_8));
        assertEquals(new Promise(3, "a"), new FilePromiseStore(file()).load());

        Files.delete(file());
        assertEquals(Promise.NONE, new FilePromiseStore(file()).load(), "a lone temporary file is not a promise");
        store.store(new Promise(5, "b"));
        assertEquals(new Promise(5, "b"), new FilePromiseStore(file()).load());
        assertFalse(Files.exists(AtomicFiles.tempFor(file())));
    }

    @Test
    void aPromiseNeverGoesBack() throws IOException {
        FilePromiseStore store = new FilePromiseStore(file());
        store.store(new Promise(5, "a"));
        assertThrows(IllegalStateException.class, () -> store.store(new Promise(4, "b")));
        assertEquals(new Promise(5, "a"), store.load());

        FilePromiseStore fresh = new FilePromiseStore(file());
        fresh.load();
        assertThrows(IllegalStateException.class, () -> fresh.store(new Promise(4, "b")));
        fresh.store(new Promise(6, "b"));
        assertEquals(new Promise(6, "b"), new FilePromiseStore(file()).load());
    }

    @Test
    void loadForcesThePromiseFileAndItsDirectory() throws IOException {
        new FilePromiseStore(file()).store(new Promise(4, "a"));
        RecordingFileSync sync = new RecordingFileSync();
        assertEquals(new Promise(4, "a"), new FilePromiseStore(file(), SyncPolicy.FSYNC, sync).load());
        assertEquals(
                List.of(RecordingFileSync.file(file()), RecordingFileSync.directory(dir)),
                sync.forced(),
                "forced before load returned");

        sync.clear();
        new FilePromiseStore(file(), SyncPolicy.UNSAFE_NO_FSYNC, sync).load();
        assertEquals(List.of(), sync.forced(), "nothing is forced without fsync");
    }
}
