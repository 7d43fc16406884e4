package dev.tenure.demo.kv;

import dev.tenure.replicator.StateMachine;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The key-value store as a replicated state machine. Deterministic: the result of every command depends
 * only on the commands before it. Applied on the replica's apply thread; reads from any thread see a
 * consistent value per key.
 */
public final class KvStateMachine implements StateMachine {
    /**
     * The result of a compare-and-set: whether it replaced the value, and the exact bytes it found ({@code null}:
     * the key was absent).
     */
    @SuppressWarnings("ArrayRecordComponent") // never compared or printed: callers read its fields only
    public record CasResult(boolean replaced, byte[] current) {}

    private final ConcurrentHashMap<String, byte[]> map = new ConcurrentHashMap<>();

    @Override
    public Object apply(long epoch, long offset, byte[] payload) {
        KvCommand c;
        try {
            c = KvCommand.decode(payload);
        } catch (IllegalArgumentException e) {
            return null; // not a key-value command: no effect, on every replica alike
        }
        switch (c.op()) {
            case PUT:
                map.put(c.key(), c.value());
                return null;
            case DELETE:
                map.remove(c.key());
                return null;
            default:
                byte[] current = map.get(c.key());
                // Bytes, never decoded text: distinct byte strings can decode to the same replacement characters.
                boolean matches =
                        c.expectAbsent() ? current == null : current != null && Arrays.equals(current, c.expect());
                if (matches) {
                    map.put(c.key(), c.value());
                }
                return new CasResult(matches, current);
        }
    }

    /** The applied value of {@code key}. */
    public Optional<byte[]> get(String key) {
        return Optional.ofNullable(map.get(key));
    }

    /** Number of keys. */
    public int size() {
        return map.size();
    }
}
