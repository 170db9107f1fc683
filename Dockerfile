# One image for Pulse's Node services; the command picks the app (see docker-compose.yml).
FROM node:20-bookworm-slim AS build
WORKDIR /pulse
COPY package.json package-lock.json ./
COPY libs/contracts/package.json libs/contracts/
COPY libs/domain/package.json libs/domain/
COPY apps/api/package.json apps/api/
COPY apps/projector/package.json apps/projector/
COPY apps/simulator/package.json apps/simulator/
COPY apps/web/package.json apps/web/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -b tsconfig.build.json && npm run build -w @pulse/web && npm prune --omit=dev

FROM node:20-bookworm-slim AS services
WORKDIR /pulse
ENV NODE_ENV=production
COPY --from=build /pulse/node_modules node_modules
COPY --from=build /pulse/package.json ./
COPY --from=build /pulse/migrations migrations
COPY --from=build /pulse/libs/contracts/package.json libs/contracts/
COPY --from=build /pulse/libs/contracts/dist libs/contracts/dist
COPY --from=build /pulse/libs/domain/package.json libs/domain/
COPY --from=build /pulse/libs/domain/dist libs/domain/dist
COPY --from=build /pulse/apps/api/package.json apps/api/
COPY --from=build /pulse/apps/api/dist apps/api/dist
COPY --from=build /pulse/apps/projector/package.json apps/projector/
COPY --from=build /pulse/apps/projector/dist apps/projector/dist
COPY --from=build /pulse/apps/simulator/package.json apps/simulator/
COPY --from=build /pulse/apps/simulator/dist apps/simulator/dist
USER node
CMD ["node", "--max-semi-space-size=32", "apps/api/dist/main.js"]

# The console: static files behind nginx, which also proxies the API and the live socket.
FROM nginx:1.27-alpine AS web
COPY --from=build /pulse/apps/web/dist/browser /usr/share/nginx/html
COPY deploy/nginx.conf /etc/nginx/conf.d/default.conf
