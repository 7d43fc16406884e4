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
package dev.tenure.recipes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EpochFenceTest {
    @TempDir
    Path dir;

    @Test
    void lowerEpochIsRefusedEqualAndHigherAreAdmitted() throws Exception {
        EpochFence fence = EpochFence.open(new InMemoryEpochStore());
        fence.admit(3);
        fence.admit(3);
        fence.admit(5);
        FencedException e = assertThrows(FencedException.class, () -> fence.admit(4));
        assertEquals(4, e.presentedEpoch());
        assertEquals(5, e.currentEpoch().orElseThrow());
        assertEquals(5, fence.highestEpoch());
        assertFalse(fence.wouldAdmit(4));
        assertTrue(fence.wouldAdmit(6));
        assertEquals(5, fence.highestEpoch(), "wouldAdmit changes nothing");
    }

    @Test
    void admittedEpochSurvivesARestart() throws Exception {
        Path file = dir.resolve("epoch");
        EpochFence.open(new FileEpochStore(file)).admit(new LeadershipToken("/p", 9, "a", 9));
        EpochFence reopened = EpochFence.open(new FileEpochStore(file));
        assertEquals(9, reopened.highestEpoch());
        assertThrows(FencedException.class, () -> reopened.admit(new LeadershipToken("/p", 8, "b", 8)));
    }

    @Test
    void theMaximumEpochIsStoredReloadedAndAdmittedWithoutOverflow() throws Exception {
        Path file = dir.resolve("epoch");
        EpochFence fence = EpochFence.open(new FileEpochStore(file));
        fence.admit(Long.MAX_VALUE - 1);
        fence.admit(Long.MAX_VALUE);
        EpochFence reopened = EpochFence.open(new FileEpochStore(file));
        assertEquals(Long.MAX_VALUE, reopened.highestEpoch());
        reopened.admit(Long.MAX_VALUE);
        assertTrue(reopened.wouldAdmit(Long.MAX_VALUE));
        assertThrows(FencedException.class, () -> reopened.admit(Long.MAX_VALUE - 1));
        assertThrows(IllegalArgumentException.class, () -> reopened.admit(Long.MIN_VALUE));
        assertEquals(Long.MAX_VALUE, new FileEpochStore(file).load());
    }

    @Test
    void higherEpochIsNotAdmittedWhenItCannotBeStored() throws Exception {
        EpochStore failing = new EpochStore() {
            @Override
            public long load() {
                return 2;
            }

            @Override
            public void store(long epoch) throws IOException {
                throw new IOException("disk full");
            }
        };
        EpochFence fence = EpochFence.open(failing);
        assertThrows(IOException.class, () -> fence.admit(3));
        assertEquals(2, fence.highestEpoch());
        fence.admit(2);
    }

    @Test
    void corruptFileIsRefusedNamingTheFile() throws Exception {
        Path file = dir.resolve("epoch");
        new FileEpochStore(file).store(12);
        String good = Files.readString(file);
        Files.writeString(file, good.replace("12", "13"), StandardCharsets.UTF_8);
        IOException e = assertThrows(IOException.class, () -> EpochFence.open(new FileEpochStore(file)));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
        Files.writeString(file, "tenure-epoch 1 1", StandardCharsets.UTF_8); // torn: no newline
        assertThrows(IOException.class, () -> new FileEpochStore(file).load());
        Files.write(file, new byte[0]);
        assertThrows(IOException.class, () -> new FileEpochStore(file).load());
    }

    @Test
    void leftoverTemporaryFileFromACrashIsIgnored() throws Exception {
        Path file = dir.resolve("epoch");
        FileEpochStore store = new FileEpochStore(file);
        store.store(4);
        // A crash after writing the temporary file but before the rename leaves it behind.
        Files.writeString(dir.resolve("epoch.tmp"), "tenure-epoch 1 5 garbage", StandardCharsets.UTF_8);
        assertEquals(4, new FileEpochStore(file).load());
        store.store(6);
        assertEquals(6, new FileEpochStore(file).load());
    }

    @Test
    void missingFileHoldsEpochZero() throws Exception {
        assertEquals(0, new FileEpochStore(dir.resolve("none")).load());
    }

    @Test
    void fenceBoundToAPathRefusesOtherPaths() throws Exception {
        EpochFence fence = EpochFence.open(new InMemoryEpochStore(), "/p");
        fence.admit(new LeadershipToken("/p", 1, "a", 1));
        assertThrows(IllegalArgumentException.class, () -> fence.admit(new LeadershipToken("/q", 2, "a", 1)));
        assertThrows(IllegalArgumentException.class, () -> fence.admit(0));
        assertThrows(IllegalArgumentException.class, () -> EpochFence.open(new InMemoryEpochStore(), "p"));
    }
}
