# syntax=docker/dockerfile:1
# One image for the five Keel services; SERVICE (build arg or run-time env) picks which one runs:
#   docker build -t keel .  &&  docker run -e SERVICE=workflow -e DATABASE_URL=… -e KAFKA_BROKERS=… keel
# The same image runs migrations: docker run --rm -e DATABASE_URL=… keel node dist/tools/migrate.js all up

FROM node:22-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts

# Compiles only what the entry points reach (no specs, tests or benches) to plain CommonJS, with the
# dist/node_modules/@keel links that resolve the libs' imports (scripts/build.sh, also `npm run build`).
FROM deps AS build
COPY tsconfig.base.json tsconfig.build.json ./
COPY scripts/build.sh ./scripts/build.sh
COPY libs ./libs
COPY apps ./apps
COPY tools ./tools
RUN bash scripts/build.sh

FROM node:22-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts

FROM node:22-slim AS runtime
ARG SERVICE=workflow
ENV NODE_ENV=production TZ=UTC HOST=0.0.0.0 SERVICE=${SERVICE}
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json marks the root the services look for their scripts and models under.
COPY package.json ./
USER node
EXPOSE 3001 3002 3003 3004 3005
# exec: node becomes PID 1 and receives SIGTERM itself, for the graceful stop.
CMD ["sh", "-c", "exec node dist/apps/${SERVICE}/src/main.js"]
