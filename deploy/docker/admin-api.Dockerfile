# Build context: dist/apps/admin-api (after `npx nx build admin-api`).
#   docker build -f deploy/docker/admin-api.Dockerfile -t identitymesh/admin-api dist/apps/admin-api
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json* ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY main.js main.js.map ./
ENV IM_DATA_DIR=/var/lib/identitymesh IM_BIND_ADDRESS=0.0.0.0
RUN mkdir -p /var/lib/identitymesh && chown node:node /var/lib/identitymesh
USER node
STOPSIGNAL SIGTERM
CMD ["node", "main.js"]
