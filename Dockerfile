# chat-gateway as a container image: build stage, then a runtime stage that holds only what
# serving needs, run as the unprivileged user `node`.
#
# Base images: BASE (runtime) and BUILD_BASE (with npm and a C++ toolchain, for better-sqlite3)
# are Debian bookworm with Node 24. scripts/container/build-base.sh builds both from Debian's
# packages and the npm registry, for machines that reach no image registry; elsewhere, the
# official images do: --build-arg BASE=docker.io/library/node:24-bookworm-slim
#                     --build-arg BUILD_BASE=docker.io/library/node:24-bookworm
ARG BASE=localhost/chat-gateway-base:24-bookworm
ARG BUILD_BASE=localhost/chat-gateway-build:24-bookworm

FROM ${BUILD_BASE} AS build
WORKDIR /app
# better-sqlite3 compiles against the headers that come with Node, not a download.
ENV npm_config_nodedir=/usr/local npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
# Dependencies first, so that a change of the sources reuses this layer.
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/prisma-schemas.mjs ./scripts/
COPY src/config.ts ./src/
COPY src/db/paths.ts ./src/db/
# Behind a TLS-intercepting proxy, pass its CA: --secret id=ca,src=/path/to/ca-bundle.pem
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
# Then only what runs: no dev dependencies, nor better-sqlite3's C sources and object files (25 MB).
RUN npm run build && npm prune --omit=dev && \
    rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src node_modules/better-sqlite3/build/Release/obj* \
      node_modules/better-sqlite3/build/Release/.deps node_modules/better-sqlite3/build/deps

FROM ${BASE} AS runtime
LABEL org.opencontainers.image.title="chat-gateway" \
      org.opencontainers.image.description="Users, chats, messages and model usage over GraphQL and REST"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATABASE_URL=file:/data/chat-gateway.db
WORKDIR /app
# Owned by root and read-only to the user that runs them; only /data is writable (SQLite).
COPY --from=build /app/package.json /app/prisma.config.ts ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/src/config.ts ./src/config.ts
COPY --from=build /app/src/db/paths.ts ./src/db/paths.ts
COPY --from=build /app/scripts/migrate.mjs ./scripts/migrate.mjs
COPY scripts/container/entrypoint.sh /usr/local/bin/chat-gateway
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 4000
# Ready: the database answers and every migration is applied (503 while draining on shutdown).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["chat-gateway"]
# `migrate-and-serve` (default), `serve` (one migration job for many replicas: see compose.yaml) or `migrate`.
CMD ["migrate-and-serve"]
