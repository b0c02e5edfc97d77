package platform.navigation.peer;

import static com.graphhopper.json.Statement.Else;
import static com.graphhopper.json.Statement.ElseIf;
import static com.graphhopper.json.Statement.If;
import static com.graphhopper.json.Statement.Op.LIMIT;
import static com.graphhopper.json.Statement.Op.MULTIPLY;

import com.graphhopper.GraphHopper;
import com.graphhopper.config.CHProfile;
import com.graphhopper.config.Profile;
import com.graphhopper.util.CustomModel;

/**
 * The car profiles, written to follow services/navigation/src/domain/road-rules.ts as far as
 * GraphHopper's encoded values allow (FINDINGS.md lists what differs).
 *
 * <ul>
 *   <li>{@code car}: fastest by our speeds, the tagged maxspeed or else our class speed.
 *   <li>{@code car_shortest}: one speed on every road, so the fastest route is the shortest;
 *       GraphHopper has no distance-only weighting any more.
 * </ul>
 *
 * Both are prepared for contraction hierarchies (CH), GraphHopper's normal fast mode.
 */
final class CarProfiles {
  static final String FASTEST = "car";
  static final String SHORTEST = "car_shortest";

  /** Only these values are read; osm_way_id serves the route details the findings use. */
  private static final String ENCODED_VALUES =
      "car_access, road_access, road_class, road_class_link, max_speed, osm_way_id";

  /** Our highway classes (road-rules.ts CLASS_SPEED_KMH); every other class is closed. */
  private static final String OUR_CLASSES =
      "road_class == MOTORWAY || road_class == TRUNK || road_class == PRIMARY"
          + " || road_class == SECONDARY || road_class == TERTIARY || road_class == UNCLASSIFIED"
          + " || road_class == RESIDENTIAL || road_class == LIVING_STREET"
          + " || road_class == SERVICE";

  /** Our denying access values that GraphHopper's road_access keeps apart. */
  private static final String DENIED =
      "road_access == NO || road_access == PRIVATE || road_access == AGRICULTURAL"
          + " || road_access == FORESTRY || road_access == DELIVERY";

  private CarProfiles() {}

  static GraphHopper configure(GraphHopper hopper) {
    hopper.setEncodedValuesString(ENCODED_VALUES);
    hopper.setProfiles(
        new Profile(FASTEST).setCustomModel(fastest()),
        new Profile(SHORTEST).setCustomModel(shortest()));
    hopper.getCHPreparationHandler()
        .setCHProfiles(new CHProfile(FASTEST), new CHProfile(SHORTEST));
    return hopper;
  }

  private static CustomModel access(CustomModel model) {
    return model
        .setDistanceInfluence(0d)
        .addToPriority(If("!car_access", MULTIPLY, "0"))
        .addToPriority(If(DENIED, MULTIPLY, "0"))
        .addToPriority(If("!(" + OUR_CLASSES + ")", MULTIPLY, "0"));
  }

  private static CustomModel fastest() {
    // A tagged maxspeed wins (clamped to 5 km/h below); 150 is GraphHopper's "none", which we
    // also treat as untagged. Otherwise the class speed, links first.
    return access(new CustomModel())
        .addToSpeed(If("max_speed < 5", LIMIT, "5"))
        .addToSpeed(ElseIf("max_speed < 150", LIMIT, "max_speed"))
        .addToSpeed(ElseIf("road_class == MOTORWAY && road_class_link", LIMIT, "60"))
        .addToSpeed(ElseIf("road_class == TRUNK && road_class_link", LIMIT, "50"))
        .addToSpeed(ElseIf("road_class == PRIMARY && road_class_link", LIMIT, "50"))
        .addToSpeed(ElseIf("road_class == SECONDARY && road_class_link", LIMIT, "40"))
        .addToSpeed(ElseIf("road_class == TERTIARY && road_class_link", LIMIT, "30"))
        .addToSpeed(ElseIf("road_class == MOTORWAY", LIMIT, "110"))
        .addToSpeed(ElseIf("road_class == TRUNK", LIMIT, "90"))
        .addToSpeed(ElseIf("road_class == PRIMARY", LIMIT, "70"))
        .addToSpeed(ElseIf("road_class == SECONDARY", LIMIT, "60"))
        .addToSpeed(ElseIf("road_class == TERTIARY", LIMIT, "50"))
        .addToSpeed(ElseIf("road_class == UNCLASSIFIED", LIMIT, "40"))
        .addToSpeed(ElseIf("road_class == RESIDENTIAL", LIMIT, "30"))
        .addToSpeed(ElseIf("road_class == LIVING_STREET", LIMIT, "10"))
        .addToSpeed(Else(LIMIT, "20"))
        .addToSpeed(If("true", LIMIT, "140"));
  }

  private static CustomModel shortest() {
    return access(new CustomModel()).addToSpeed(If("true", LIMIT, "50"));
  }
}
