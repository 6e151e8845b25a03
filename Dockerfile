# syntax=docker/dockerfile:1
# Warden: build with the full toolchain, run on a slim Node 22 LTS image as a non-root user.

# --- production dependencies only ---------------------------------------------------------
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The image's npm runs install scripts, so @matrix-org/matrix-sdk-crypto-nodejs fetches its
# native library here and encrypted management rooms work in the image. Without network
# access at build time, add --ignore-scripts: Warden then runs without end-to-end encryption.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- compile TypeScript -----------------------------------------------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Build tools only; no install scripts needed to compile.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json

# --- runtime -------------------------------------------------------------------------------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json config.example.yaml ./
# State (warden.sqlite and its lock, see the README) lives in /data: mount a volume there and set
# dataDirectory: /data in the config. The official image's "node" user (uid 1000) owns it.
RUN mkdir -p /data /config && chown node:node /data
VOLUME ["/data"]
USER node
# Asks Warden's own /healthz when metrics.listen is set in the config; exits 0 when it is not,
# so a container without the endpoint is never marked unhealthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
  CMD ["node", "dist/src/metrics/healthcheck.js", "--config", "/config/config.yaml"]
ENTRYPOINT ["node", "dist/src/index.js"]
CMD ["--config", "/config/config.yaml"]
