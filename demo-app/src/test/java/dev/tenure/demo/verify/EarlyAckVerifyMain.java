package dev.tenure.demo.verify;

import dev.tenure.demo.node.EarlyAckNodeMain;
import picocli.CommandLine;

/**
 * {@code verify} over replicas that acknowledge writes without a majority ({@link EarlyAckNodeMain}): the harness's
 * teeth. Only on the test class path; {@code VerifyIT} runs it in a child JVM and requires the run to be INVALID.
 */
public final class EarlyAckVerifyMain {
    private EarlyAckVerifyMain() {}

    /** Takes {@code verify}'s options. */
    public static void main(String[] args) {
        VerifyCommand command = new VerifyCommand();
        command.nodeMainClass = EarlyAckNodeMain.class.getName();
        System.exit(new CommandLine(command).execute(args));
    }
}
