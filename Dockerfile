# Build stage: native modules (better-sqlite3, sharp's prebuilt libvips) are installed here, dist/ is compiled with
# tsc (a dev dependency), then the dev dependencies are pruned away.
FROM node:22-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts, then rebuild: the dependencies' install scripts run, the project's `prepare` (the build, which
# needs src/) does not, so this layer stays cached until the lock file changes.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
# HTTP_HOST: a container's loopback is its own; 0.0.0.0 lets healthchecks, Prometheus and a proxy reach the server.
# NODE_COMPILE_CACHE (Node ≥ 22.1): V8 keeps the compiled code of the modules on disk, so a restart of the same
# container compiles less (start-up is mostly loading modules); a folder it cannot write only turns the cache off.
ENV NODE_ENV=production STORAGE_DIR=/data HTTP_HOST=0.0.0.0 NODE_COMPILE_CACHE=/tmp/node-compile-cache
# Fonts: the numbers and labels on contact sheets and result grids are SVG text that sharp's librsvg draws with
# fonts found through fontconfig. The slim image has none, and without them the numbers come out blank.
RUN apt-get update && apt-get install -y --no-install-recommends fontconfig fonts-dejavu-core \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json says "type": "module" (dist/ is ES modules); workflows/ is found as ../workflows from dist/config.js.
COPY package.json ./
COPY workflows ./workflows
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
# What `npm start` runs, without npm in between: one process less (npm's own ~40 MB), and docker stop's SIGTERM goes
# straight to the relay. `docker run … worker` passes the role as before; the CLI is `node dist/cli/main.js …`.
ENTRYPOINT ["node", "dist/main.js"]
CMD ["all"]
