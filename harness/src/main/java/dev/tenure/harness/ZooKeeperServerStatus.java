package dev.tenure.harness;

/**
 * One server of a {@link ZooKeeperProcessEnsemble} as seen at one moment. Immutable and thread-safe.
 *
 * @param server the server number, {@code 1..n} (ZooKeeper's {@code myid})
 * @param pid the pid of the server's process as last recorded
 * @param clientPort the port clients connect to on 127.0.0.1
 * @param alive true if that pid is alive and is a ZooKeeper server ({@code QuorumPeerMain}) process
 * @param mode what the server answered to {@code srvr}; {@link ZooKeeperServerMode#NO_ANSWER} when not alive
 */
public record ZooKeeperServerStatus(int server, long pid, int clientPort, boolean alive, ZooKeeperServerMode mode) {}
