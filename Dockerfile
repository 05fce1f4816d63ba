# syntax=docker/dockerfile:1
#
# trt-guide-bot: a two-stage image.
#   builder  compiles the FAISS binding (against Debian's libfaiss-dev) and the TypeScript
#   runtime  Node 24 LTS slim with only what runs: the faiss runtime libraries, package.json,
#            production node_modules, dist/, config/ and data/; runs as the non-root `node` user
#
#   docker build -t trt-guide-bot .
#   docker run --env-file .env -p 3000:3000 trt-guide-bot                  # --role all
#   docker run --env-file .env trt-guide-bot --role worker                 # roles are CMD args
#
# No Docker engine in CI: `npm run docker:steps` runs these same steps on the machine (it reads
# this file), and test/docker/dockerfile.test.ts keeps its paths, user and entry point in step
# with the project. Keep the instructions simple (one COPY source per path, no globs) for both.

# ---- builder ---------------------------------------------------------------------------------
FROM node:24-bookworm-slim AS builder

# g++ and libfaiss-dev (faiss 1.7.3 on bookworm, linked statically) with the BLAS/LAPACK it links with.
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ libfaiss-dev libblas-dev liblapack-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The packages are installed above; scripts/build-faiss.mjs must not apt-get them itself.
ENV FAISS_AUTO_APT=0

# Dependencies first (a layer cached until the lock file changes). Dependencies' own install
# scripts stay off whatever npm the image ships (package.json's allowScripts denies them on
# npm versions that know it; faiss-node's would download from GitHub); the project's
# postinstall then builds the faiss binding: node_modules/faiss-node/build/Release/faiss-node.node.
COPY package.json package-lock.json ./
COPY scripts/build-faiss.mjs scripts/build-faiss.mjs
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm run postinstall

# tsc -p tsconfig.build.json: src/, adapters/ and scripts/ to dist/ (rootDir ".", so dist/src,
# dist/adapters, dist/scripts). scripts/bench imports the fake servers in test/fakes.
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
COPY adapters/ adapters/
COPY scripts/ scripts/
COPY test/fakes/ test/fakes/
# The fakes wait on conditions with test/wait.ts.
COPY test/wait.ts test/wait.ts
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && node -e "require('faiss-node').Index.fromFactory(2,'Flat',0)"

# ---- runtime ---------------------------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime

# What faiss-node.node links dynamically besides libc/libstdc++ (check: ldd faiss-node.node).
RUN apt-get update \
 && apt-get install -y --no-install-recommends liblapack3 libblas3 libgomp1 libgfortran5 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV NODE_ENV=production PORT=3000

# Owned by root, read-only for the app: it writes nothing under /app at runtime.
# package.json carries "type": "module", which dist/ needs.
COPY --from=builder /app/package.json package.json
COPY --from=builder /app/node_modules/ node_modules/
COPY --from=builder /app/dist/ dist/
COPY config/ config/
COPY data/ data/

USER node
EXPOSE 3000
# The app stops on SIGTERM: no new messages, turns in progress finish (SHUTDOWN_TIMEOUT_MS, 10 s
# by default; give `docker stop` a longer --time), connections close.
STOPSIGNAL SIGTERM
# Liveness on the app's HTTP port (slim images have no curl). In the terminal chat (no platform
# tokens) nothing listens; that mode is for `docker run -it`, not for a service.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["node", "dist/adapters/main.js"]
CMD ["--role", "all"]
