# syntax=docker/dockerfile:1
# One image for every service and operator of the platform. The service is
# chosen by the container's arguments, e.g.
#   args: ["services/url-shortener/src/main.ts", "api"]
# Node 24 runs the TypeScript sources directly (type stripping): no build step.

ARG NODE_IMAGE=node:24.22.3-bookworm-slim

# Production dependencies only, resolved from the lockfile.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY operators/handler-rebalancer/package.json operators/handler-rebalancer/
COPY services/chat/package.json services/chat/
COPY services/hotel-booking/package.json services/hotel-booking/
COPY services/kit/package.json services/kit/
COPY services/navigation/package.json services/navigation/
COPY services/platform/package.json services/platform/
COPY services/url-shortener/package.json services/url-shortener/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force \
    && rm .npmrc

FROM ${NODE_IMAGE} AS runtime
# DATA_DIR: where the launcher (the default command) keeps its embedded
# stores; /tmp is the one writable place under a read-only root. HOST: a
# container is reached through its own interface, not loopback, so the
# launcher's loopback default does not apply in it.
ENV NODE_ENV=production \
    NODE_OPTIONS=--disable-warning=ExperimentalWarning \
    DATA_DIR=/tmp/platform-data \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app /app
# Owned by the app's user so Tilt's live update can sync into it; the charts
# mount the root filesystem read-only everywhere else.
COPY --chown=1000:1000 services /app/services
COPY --chown=1000:1000 operators /app/operators
# The OpenStreetMap extracts navigation loads (ODbL, see data/osm/README.md).
COPY --chown=1000:1000 data/osm /app/data/osm
# The image's own "node" user (uid 1000).
USER 1000:1000
EXPOSE 8081
ENTRYPOINT ["node"]
CMD ["services/platform/src/start.ts"]
