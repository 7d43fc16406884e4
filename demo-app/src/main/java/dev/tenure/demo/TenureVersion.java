package dev.tenure.demo;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/** The build's version for {@code --version} on every command, from {@code version.properties} (filtered). */
public final class TenureVersion implements CommandLine.IVersionProvider {
    /** The version this jar was built as, or "unknown" if the resource is missing (a build without resources). */
    public static String version() {
        try (InputStream in = TenureVersion.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {
            "Tenure " + version(),
            "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"
        };
    }
}
