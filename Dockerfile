# The cillion image: built by `make image` (scripts/image.sh), which makes the base (Debian
# bookworm by debootstrap, imported as localhost/cillion-base) and fetches node and npm from
# the npm registry into build/image/; no other registry is needed.
ARG BASE=localhost/cillion-base:bookworm

# Build: clang, bpftool and node-gyp build the datapath and the addon for this architecture,
# tsc the CLI; the npm package made from that is installed into /opt/cillion, as a user would.
FROM ${BASE} AS build
COPY build/image/node.tgz build/image/npm.tgz /tmp/
RUN tar -xzf /tmp/node.tgz -C /usr/local --strip-components=1 package/bin package/include \
 && mkdir -p /usr/local/lib/node_modules/npm \
 && tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1 \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && rm /tmp/node.tgz /tmp/npm.tgz
WORKDIR /src
COPY scripts/install-deps.sh scripts/
RUN scripts/install-deps.sh
COPY . .
RUN make --no-print-directory build \
 && npm pack --pack-destination /tmp --loglevel=error \
 && npm install -g --prefix /opt/cillion /tmp/cillion-*.tgz --prefer-offline --no-audit --no-fund --loglevel=error

# Run: the base with node, the installed package, the libraries the addon links, ip (agent,
# demo) and openssl (cillion certs); no compiler, no headers, no npm.
FROM ${BASE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libbpf1 libelf1 zlib1g iproute2 openssl >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/node /usr/local/bin/node
COPY --from=build /opt/cillion /opt/cillion
ENV PATH=/opt/cillion/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENTRYPOINT ["cillion"]
CMD ["--help"]
