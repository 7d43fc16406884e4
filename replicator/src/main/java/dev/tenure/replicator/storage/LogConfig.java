package dev.tenure.replicator.storage;

import com.google.common.base.Preconditions;

/**
 * Settings of a {@link SegmentedLog}. Use {@link #builder()} or {@link #defaults()}.
 *
 * @param maxSegmentBytes size at which the active segment is closed and a new one started (default 64 MiB);
 *     a record larger than this gets a segment of its own
 * @param syncPolicy whether {@link SegmentedLog#sync()} and structural changes reach the disk (default
 *     {@link SyncPolicy#FSYNC})
 */
public record LogConfig(long maxSegmentBytes, SyncPolicy syncPolicy) {
    /** The smallest segment size accepted: one record header and some payload. */
    public static final long MIN_SEGMENT_BYTES = 64;

    public static final long DEFAULT_MAX_SEGMENT_BYTES = 64L << 20;

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

    public LogConfig {
        Preconditions.checkArgument(
                maxSegmentBytes >= MIN_SEGMENT_BYTES,
                "maxSegmentBytes must be >= %s, was %s",
                MIN_SEGMENT_BYTES,
                maxSegmentBytes);
        Preconditions.checkNotNull(syncPolicy, "syncPolicy must not be null");
    }

    public static LogConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    boolean fsync() {
        return syncPolicy == SyncPolicy.FSYNC;
    }

    /** Builds a {@link LogConfig}. */
    public static final class Builder {
        private long maxSegmentBytes = DEFAULT_MAX_SEGMENT_BYTES;
        private SyncPolicy syncPolicy = SyncPolicy.FSYNC;

        private Builder() {}

        public Builder maxSegmentBytes(long bytes) {
            this.maxSegmentBytes = bytes;
            return this;
        }

        public Builder syncPolicy(SyncPolicy policy) {
            this.syncPolicy = policy;
            return this;
        }

        public LogConfig build() {
            return new LogConfig(maxSegmentBytes, syncPolicy);
        }
    }
}
