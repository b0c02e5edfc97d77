import { AppError } from '@platform/kit';

/** The navigation error catalogue; the kit's catalogue covers the generic cases. */
export const navigationErrors = {
  osm_file_unreadable: {
    status: 500,
    message: 'the OSM extract could not be read: it is missing, corrupt or truncated',
  },
  osm_no_roads: { status: 500, message: 'the OSM extract holds no road a car may use' },
  coordinate_invalid: {
    status: 400,
    message: 'latitude must be in [-90, 90], longitude in [-180, 180]',
  },
  outside_extract: { status: 422, message: 'the point lies outside the loaded map extract' },
  no_road_nearby: {
    status: 422,
    message: 'no road lies within the snapping distance of the point',
  },
  no_route: { status: 422, message: 'no road route joins the two points' },
  session_not_started: { status: 409, message: 'send start before pings' },
  graph_loading: { status: 503, message: 'the road graph is still loading' },
} as const;

export type NavigationErrorCode = keyof typeof navigationErrors;

export function navigationError(
  code: NavigationErrorCode,
  details: { field?: string; message?: string; cause?: unknown } = {},
): AppError {
  return AppError.of(navigationErrors, code, details);
}
