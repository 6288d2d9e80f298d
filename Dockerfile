# Build stage: native modules (better-sqlite3, sharp's prebuilt libvips) are installed here.
FROM node:22-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
# HTTP_HOST: a container's loopback is its own; 0.0.0.0 lets healthchecks, Prometheus and a proxy reach the server.
ENV NODE_ENV=production STORAGE_DIR=/data HTTP_HOST=0.0.0.0
# Fonts: the numbers and labels on contact sheets and result grids are SVG text that sharp's librsvg draws with
# fonts found through fontconfig. The slim image has none, and without them the numbers come out blank.
RUN apt-get update && apt-get install -y --no-install-recommends fontconfig fonts-dejavu-core \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["npm", "start", "--"]
CMD ["all"]
