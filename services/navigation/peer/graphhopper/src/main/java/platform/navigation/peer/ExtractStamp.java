package platform.navigation.peer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which extract a graph cache was built from. GraphHopper loads whatever graph sits in its
 * directory, so a cache built from another extract would silently answer for the wrong map.
 */
final class ExtractStamp {
  private static final String FILE = "extract.stamp";

  private ExtractStamp() {}

  static void check(Path extract, Path cache) throws IOException {
    if (!Files.exists(cache.resolve("properties"))) return;
    Path stamp = cache.resolve(FILE);
    String found = Files.exists(stamp) ? Files.readString(stamp, StandardCharsets.UTF_8) : "none";
    if (!found.equals(of(extract))) {
      GraphHopperRunner.fail(
          "cache_mismatch",
          "the graph cache " + cache + " was built from " + found.strip() + ", not " + extract
              + "; remove it or pass another directory");
    }
  }

  static void write(Path extract, Path cache) throws IOException {
    Files.writeString(cache.resolve(FILE), of(extract), StandardCharsets.UTF_8);
  }

  private static String of(Path extract) throws IOException {
    return extract + " " + Files.size(extract) + " bytes, modified "
        + Files.getLastModifiedTime(extract) + "\n";
  }
}
