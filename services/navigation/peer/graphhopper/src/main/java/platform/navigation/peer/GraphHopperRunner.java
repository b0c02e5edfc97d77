package platform.navigation.peer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.graphhopper.GHRequest;
import com.graphhopper.GHResponse;
import com.graphhopper.GraphHopper;
import com.graphhopper.ResponsePath;
import com.graphhopper.util.Parameters;
import com.graphhopper.util.details.PathDetail;
import com.graphhopper.util.shapes.GHPoint;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * GraphHopper as a peer router for the navigation benchmark, spoken to over stdin/stdout.
 *
 * <p>Args: an OSM PBF extract and a graph-cache directory. The first line on stdout reports the
 * import (or load) and the graph size; then every JSON line on stdin
 * {@code {"id":…,"from":[lat,lon],"to":[lat,lon]}} gets one JSON line back:
 * {@code {"id","found","distanceM","timeS","micros","visitedNodes"}}. Optional query fields: {@code "profile"}
 * ({@code car}, the default, or {@code car_shortest}), {@code "ch": false} for GraphHopper's
 * flexible mode, {@code "ways": true} for the OSM way ids along the route.
 */
public final class GraphHopperRunner {
  private static final ObjectMapper JSON = new ObjectMapper();

  private GraphHopperRunner() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: graphhopper <extract.osm.pbf> <graph-cache-dir>");
      System.exit(2);
    }
    Path extract = Path.of(args[0]).toAbsolutePath();
    Path cache = Path.of(args[1]).toAbsolutePath();
    if (!Files.isRegularFile(extract) || !Files.isReadable(extract)) {
      fail("extract_unreadable", "cannot read the extract " + extract);
    }
    ExtractStamp.check(extract, cache);

    GraphHopper hopper = CarProfiles.configure(new GraphHopper());
    hopper.setOSMFile(extract.toString());
    hopper.setGraphHopperLocation(cache.toString());
    boolean cached = Files.exists(cache.resolve("properties"));
    long started = System.nanoTime();
    try {
      hopper.importOrLoad();
    } catch (RuntimeException e) {
      fail("import_failed", "GraphHopper could not import " + extract + ": " + e.getMessage());
    }
    long importMs = (System.nanoTime() - started) / 1_000_000;
    ExtractStamp.write(extract, cache);

    BufferedWriter out =
        new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
    ObjectNode ready = JSON.createObjectNode();
    ready.put("ready", true);
    ready.put("loadedFromCache", cached);
    ready.put("importMs", importMs);
    ready.put("nodes", hopper.getBaseGraph().getNodes());
    ready.put("edges", hopper.getBaseGraph().getEdges());
    ArrayNode profiles = ready.putArray("profiles");
    hopper.getProfiles().forEach(profile -> profiles.add(profile.getName()));
    ready.put("ch", true);
    writeLine(out, ready);
    out.flush();

    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 16);
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      if (line.isBlank()) continue;
      writeLine(out, answer(hopper, line));
      // Flush when no more input is waiting, so a caller sending one query at a time gets it.
      if (!in.ready()) out.flush();
    }
    out.flush();
    hopper.close();
  }

  private static ObjectNode answer(GraphHopper hopper, String line) {
    ObjectNode result = JSON.createObjectNode();
    JsonNode query;
    try {
      query = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      result.putNull("id");
      return refused(result, "not JSON: " + e.getOriginalMessage());
    }
    result.set("id", query.get("id"));
    GHPoint from = point(query.get("from"));
    GHPoint to = point(query.get("to"));
    if (from == null || to == null) return refused(result, "from and to must be [lat, lon]");

    GHRequest request = new GHRequest(from, to).setProfile(query.path("profile").asText("car"));
    // Turn-by-turn text is not what we compare, and our Dijkstra builds none either.
    request.putHint(Parameters.Routing.INSTRUCTIONS, false);
    if (!query.path("ch").asBoolean(true)) request.putHint(Parameters.CH.DISABLE, true);
    boolean ways = query.path("ways").asBoolean(false);
    if (ways) request.setPathDetails(List.of("osm_way_id"));

    long started = System.nanoTime();
    GHResponse response = hopper.route(request);
    long micros = (System.nanoTime() - started) / 1_000;

    result.put("found", !response.hasErrors());
    if (response.hasErrors()) {
      result.put("error", response.getErrors().get(0).getMessage());
    } else {
      ResponsePath path = response.getBest();
      result.put("distanceM", path.getDistance());
      result.put("timeS", path.getTime() / 1000.0);
      if (ways) {
        ArrayNode ids = result.putArray("wayIds");
        for (PathDetail detail : path.getPathDetails().get("osm_way_id")) {
          ids.add(((Number) detail.getValue()).longValue());
        }
      }
    }
    result.put("micros", micros);
    // The nodes the search visited (GraphHopper's own count, summed over its searches).
    result.put("visitedNodes", response.getHints().getLong("visited_nodes.sum", -1));
    return result;
  }

  private static GHPoint point(JsonNode pair) {
    if (pair == null || !pair.isArray() || pair.size() != 2) return null;
    if (!pair.get(0).isNumber() || !pair.get(1).isNumber()) return null;
    return new GHPoint(pair.get(0).asDouble(), pair.get(1).asDouble());
  }

  private static ObjectNode refused(ObjectNode result, String message) {
    result.put("found", false);
    result.put("error", message);
    result.put("micros", 0);
    return result;
  }

  private static void writeLine(BufferedWriter out, JsonNode value) {
    try {
      out.write(JSON.writeValueAsString(value));
      out.newLine();
    } catch (IOException e) {
      // The reader went away: nothing is left to answer.
      System.exit(0);
    }
  }

  /** A fatal error as one JSON line on stderr, then exit 1: the wrapper shows it verbatim. */
  static void fail(String code, String message) {
    ObjectNode error = JSON.createObjectNode();
    error.put("error", code);
    error.put("message", message);
    System.err.println(error);
    System.exit(1);
  }
}
