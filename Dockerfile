# Images for `docker compose up`: Kong 3.9 with the AI plugin server inside, and the demo's mock LLM.

# Build once: compile TypeScript, then keep only production dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY plugins ./plugins
COPY test ./test
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --no-audit --no-fund

# semantic-cache's optional ONNX embedder (embedder.kind: onnx): all-MiniLM-L6-v2 for transformers.js, fetched
# here at build time (the plugin server never downloads anything) and checked against the recorded sha256.
FROM node:20-bookworm-slim AS models
ARG MINILM_BASE_URL=https://huggingface.co/Xenova/all-MiniLM-L6-v2/resolve/main
ARG MINILM_ONNX_SHA256=afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \
  && mkdir -p /models/all-MiniLM-L6-v2/onnx && cd /models/all-MiniLM-L6-v2 \
  && for file in config.json tokenizer.json tokenizer_config.json special_tokens_map.json onnx/model_quantized.onnx; do \
       curl -fsSL -o "$file" "$MINILM_BASE_URL/$file"; done \
  && echo "$MINILM_ONNX_SHA256  onnx/model_quantized.onnx" | sha256sum -c -

# The Node.js runtime, copied into Kong's image below.
FROM node:20-bookworm-slim AS node

# The mock LLM (test code: never part of the Kong image). Replays recorded OpenAI payloads.
FROM node:20-bookworm-slim AS mock-llm
WORKDIR /opt/mock-llm
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist/test ./dist/test
COPY --from=build /build/dist/plugins ./dist/plugins
COPY test/fixtures ./test/fixtures
USER node
CMD ["node", "dist/test/mock-llm/main.js", "--host", "0.0.0.0", "--port", "9090"]

# Kong with the plugin server. Kong starts it (start command of llm-proxy's plugin server entry)
# and asks each plugin's query command for its schema; see docker-compose.yml.
FROM kong:3.9 AS kong
USER root
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=build /build/node_modules /opt/kong-ai/node_modules
COPY --from=build /build/dist/plugins /opt/kong-ai/dist/plugins
COPY --from=models /models /usr/local/share/kong-ai/models
COPY package.json /opt/kong-ai/package.json
# No -v / verbose flag: kong-pdk's verbose mode logs every RPC with request bodies.
RUN printf '#!/bin/sh\nexec /usr/local/bin/node /opt/kong-ai/dist/plugins/kong/main.js "$@"\n' > /usr/local/bin/kong-ai-plugin-server \
  && chmod 0755 /usr/local/bin/kong-ai-plugin-server \
  && node --version
USER kong
