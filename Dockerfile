# syntax=docker/dockerfile:1
# One image for the five Keel services; SERVICE (build arg or run-time env) picks which one runs:
#   docker build -t keel .  &&  docker run -e SERVICE=workflow -e DATABASE_URL=… -e KAFKA_BROKERS=… keel
# The same image runs migrations: docker run --rm -e DATABASE_URL=… keel node dist/tools/migrate.js all up

FROM node:22-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts

# Compiles only what the entry points reach (no specs, tests or benches) to plain CommonJS.
FROM deps AS build
COPY tsconfig.base.json ./
COPY libs ./libs
COPY apps ./apps
COPY tools ./tools
RUN cat > tsconfig.build.json <<'JSON'
{
  "extends": "./tsconfig.base.json",
  "compilerOptions": { "outDir": "dist", "rootDir": ".", "noEmit": false, "sourceMap": false, "types": ["node"] },
  "include": ["apps/*/src/main.ts", "tools/migrate.ts"]
}
JSON
RUN npx tsc -p tsconfig.build.json

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
COPY tsconfig.base.json ./
# tsc keeps the `@keel/<lib>` imports as written; these links resolve them the way tsconfig's paths do
# (`@keel/<lib>` → `<lib folder>/src/index`, libs may nest), without a path-mapping loader at run time.
RUN node -e ' \
  const fs = require("node:fs"), path = require("node:path"); \
  const { paths } = require("./tsconfig.base.json").compilerOptions; \
  for (const [alias, [target]] of Object.entries(paths)) { \
    const link = path.join("node_modules", alias); \
    fs.mkdirSync(path.dirname(link), { recursive: true }); \
    fs.symlinkSync(path.resolve("dist", path.dirname(target)), link); \
  }'
USER node
EXPOSE 3001 3002 3003 3004 3005
# exec: node becomes PID 1 and receives SIGTERM itself, for the graceful stop.
CMD ["sh", "-c", "exec node dist/apps/${SERVICE}/src/main.js"]
