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

import com.google.common.base.Preconditions;

/**
 * Settings of a {@link SegmentedLog}. Use {@link #builder()} or {@link #defaults()}.
 *
 * <p>Immutable and thread-safe. The constructor throws {@link IllegalArgumentException} for a segment or record size
 * below its minimum.
 *
 * @param maxSegmentBytes size at which the active segment is closed and a new one started (default 64 MiB);
 *     a record larger than this gets a segment of its own
 * @param maxRecordBytes the largest record, its 26-byte header included, that {@link SegmentedLog#append}
 *     accepts (default 16 MiB); recovery refuses a record header announcing more as corruption, so a log must be
 *     opened with a value at least as large as the one it was written with. Keep it at least the transport's
 *     largest frame ({@code NettyTransport.DEFAULT_MAX_FRAME_BYTES}, 16 MiB): an entry in a frame also carries
 *     more than 26 bytes of framing, so every entry a follower can receive fits in a record
 * @param syncPolicy whether {@link SegmentedLog#sync()} and structural changes reach the disk (default
 *     {@link SyncPolicy#FSYNC})
 */
public record LogConfig(long maxSegmentBytes, int maxRecordBytes, SyncPolicy syncPolicy) {
    /** The smallest segment size accepted: one record header and some payload. */
    public static final long MIN_SEGMENT_BYTES = 64;

    /** Default {@link #maxSegmentBytes()}: 64 MiB. */
    public static final long DEFAULT_MAX_SEGMENT_BYTES = 64L << 20;

    /** Default largest record, header included: 16 MiB, the transport's default largest frame. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 16 << 20;

    /** Whether the log forces its files to the disk. */
    public enum SyncPolicy {
        /** Force files and the directory ({@code fsync}): what is synced survives a power failure. */
        FSYNC,
        /**
         * Never force anything: a machine crash can lose synced entries. Explicitly unsafe, for tests and
         * benchmarks only.
         */
        UNSAFE_NO_FSYNC
    }

    /** Checks the sizes and the sync policy. */
    public LogConfig {
        Preconditions.checkArgument(
                maxSegmentBytes >= MIN_SEGMENT_BYTES,
                "maxSegmentBytes must be >= %s, was %s",
                MIN_SEGMENT_BYTES,
                maxSegmentBytes);
        Preconditions.checkArgument(
                maxRecordBytes >= SegmentedLog.HEADER_BYTES,
                "maxRecordBytes must be >= %s (a record header), was %s",
                SegmentedLog.HEADER_BYTES,
                maxRecordBytes);
        Preconditions.checkNotNull(syncPolicy, "syncPolicy must not be null");
    }

    /** The defaults. */
    public static LogConfig defaults() {
        return builder().build();
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    boolean fsync() {
        return syncPolicy == SyncPolicy.FSYNC;
    }

    /** Builds a {@link LogConfig}. */
    public static final class Builder {
        private long maxSegmentBytes = DEFAULT_MAX_SEGMENT_BYTES;
        private int maxRecordBytes = DEFAULT_MAX_RECORD_BYTES;
        private SyncPolicy syncPolicy = SyncPolicy.FSYNC;

        private Builder() {}

        /** See {@link LogConfig#maxSegmentBytes()}. */
        public Builder maxSegmentBytes(long bytes) {
            this.maxSegmentBytes = bytes;
            return this;
        }

        /** The largest record, header included, the log accepts; see {@link LogConfig#maxRecordBytes()}. */
        public Builder maxRecordBytes(int bytes) {
            this.maxRecordBytes = bytes;
            return this;
        }

        /** See {@link LogConfig#syncPolicy()}. */
        public Builder syncPolicy(SyncPolicy policy) {
            this.syncPolicy = policy;
            return this;
        }

        /** The settings; throws {@link IllegalArgumentException} for a size below its minimum. */
        public LogConfig build() {
            return new LogConfig(maxSegmentBytes, maxRecordBytes, syncPolicy);
        }
    }
}
