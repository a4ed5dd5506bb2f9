#!/usr/bin/env bash
# Generates TypeScript for every .proto under proto/ into proto/gen with ts-proto.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf proto/gen && mkdir -p proto/gen
mapfile -t files < <(cd proto && find . -name '*.proto' -not -path './gen/*' | sed 's|^\./||' | sort)
[ ${#files[@]} -eq 0 ] && exit 0
echo "protoc: ${#files[@]} files"
protoc --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out=proto/gen \
  --ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,env=node,forceLong=bigint,useDate=false,oneof=unions-value \
  -I proto -I /usr/include "${files[@]}"
