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
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.SnapshotStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based fuzzing of what the replicator reads back from disk: log segments with any damage (bit flips,
 * truncations, inserted bytes, overwritten length fields) recover a prefix of what was written or are refused with
 * {@link CorruptLogException}; a promise file of arbitrary bytes loads or is refused with an {@link IOException}; a
 * snapshot file of arbitrary or damaged bytes validates or is refused as corrupt. Never another exception. Tries:
 * jqwik's default, {@code -Djqwik.tries.default=N} for a long run (docs/security.md, "Fuzzing").
 */
class StorageFuzzTest {
    private static Path base;
    private static Path log;
    private static List<Entry> written;

    @BeforeContainer
    static void writeALog() throws IOException {
        base = Files.createTempDirectory("tenure-storage-fuzz");
        log = base.resolve("log");
        written = new ArrayList<>();
        try (SegmentedLog l =
                SegmentedLog.open(log, LogConfig.builder().maxSegmentBytes(256).build())) {
            for (int i = 0; i < 30; i++) {
                Entry e = i == 0
                        ? Entry.epochStart(1, 0)
                        : Entry.data(1 + i / 10, i, ("entry-" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                l.append(List.of(e));
                written.add(e);
            }
            l.sync();
        }
    }

    @AfterContainer
    static void delete() throws IOException {
        deleteTree(base);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** One way to damage a file: which file (by index), where, how, and with which bytes. */
    @SuppressWarnings("ArrayRecordComponent") // a value of a generated test case, never compared or hashed
    record Damage(int file, int at, int kind, byte[] bytes) {}

    @Provide
    Arbitrary<Damage> damage() {
        return net.jqwik.api.Combinators.combine(
                        Arbitraries.integers().between(0, 100),
                        Arbitraries.integers().between(0, 100_000),
                        Arbitraries.integers().between(0, 3),
                        Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(8))
                .as(Damage::new);
    }

    private static void apply(Path file, Damage d) throws IOException {
        byte[] b = Files.readAllBytes(file);
        byte[] out;
        int at = b.length == 0 ? 0 : d.at() % b.length;
        switch (d.kind()) {
            case 0 -> { // flip the bits of the given bytes' pattern
                out = b.clone();
                for (int i = 0; i < d.bytes().length && at + i < out.length; i++) {
                    out[at + i] ^= d.bytes()[i] == 0 ? 1 : d.bytes()[i];
                }
            }
            case 1 -> out = Arrays.copyOf(b, at); // truncate
            case 2 -> { // insert
                out = new byte[b.length + d.bytes().length];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(d.bytes(), 0, out, at, d.bytes().length);
                System.arraycopy(b, at, out, at + d.bytes().length, b.length - at);
            }
            default -> { // an extreme 4-byte field (a length, a count)
                out = b.clone();
                if (out.length >= 4) {
                    int[] extremes = {Integer.MAX_VALUE, Integer.MIN_VALUE, -1, 1 << 30};
                    ByteBuffer.wrap(out).putInt(Math.min(at, out.length - 4), extremes[d.bytes()[0] & 3]);
                }
            }
        }
        Files.write(file, out);
    }

    private static Path copyOfLog() throws IOException {
        Path copy = Files.createTempDirectory(base, "copy");
        try (Stream<Path> s = Files.list(log)) {
            for (Path p : s.toList()) {
                Files.copy(p, copy.resolve(p.getFileName()));
            }
        }
        return copy;
    }

    @Property(tries = 300)
    void aDamagedLogRecoversAPrefixOfWhatWasWrittenOrIsRefusedAsCorrupt(@ForAll("damage") Damage d) throws IOException {
        Path copy = copyOfLog();
        try {
            List<Path> segments;
            try (Stream<Path> s = Files.list(copy)) {
                segments = s.filter(Files::isRegularFile).sorted().toList();
            }
            apply(segments.get(d.file() % segments.size()), d);
            try (SegmentedLog recovered = SegmentedLog.open(copy, LogConfig.defaults())) {
                long start = recovered.logStartOffset();
                long end = recovered.logEndOffset();
                assertTrue(start <= end && end <= written.size(), start + ".." + end);
                List<Entry> read = end == start ? List.of() : recovered.read(start, Integer.MAX_VALUE, Long.MAX_VALUE);
                assertEquals(written.subList((int) start, (int) end), read, "a prefix of what was written");
            } catch (CorruptLogException refused) {
                assertNotNull(refused.getMessage(), "a refusal says why");
            }
        } finally {
            deleteTree(copy);
        }
    }

    @Property(tries = 300)
    void aPromiseFileOfArbitraryBytesLoadsOrIsRefused(@ForAll @Size(max = 200) byte[] bytes) throws IOException {
        Path file = Files.createTempFile(base, "promise", ".bin");
        try {
            Files.write(file, bytes);
            try {
                assertNotNull(new FilePromiseStore(file).load());
            } catch (IOException refused) {
                assertNotNull(refused.getMessage(), "a refusal says why");
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Property(tries = 300)
    void aSnapshotFileOfArbitraryBytesIsRefusedAsCorrupt(
            @ForAll @Size(max = 400) byte[] bytes, @ForAll @IntRange(min = 0, max = 3) int header) throws IOException {
        Path file = Files.createTempFile(base, "snapshot", ".bin");
        try {
            // Some tries start with the snapshot format's magic, so that the header's fields are reached.
            byte[] content = bytes;
            if (header > 0 && bytes.length > 8) {
                content = bytes.clone();
                ByteBuffer.wrap(content).putInt(0, SnapshotFormat.MAGIC).put(4, SnapshotFormat.VERSION);
            }
            Files.write(file, content);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                SnapshotFormat.validate(ch, file);
            } catch (SnapshotStore.CorruptSnapshotException refused) {
                assertNotNull(refused.getMessage(), "a refusal says why");
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
