#!/usr/bin/env bash
# Starts the product exactly as the README says (npm start, embedded defaults), runs the seed's
# curl flow against it, restarts it and checks that keys and the signing keys survived.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${SMOKE_PORT:-3917}
DATA=$(mktemp -d)
LOG=$(mktemp)
BASE="http://localhost:$PORT"
pid=""
# npm start runs node as a child: signal the whole process group, not just npm.
cleanup() { [ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null || true; rm -rf "$DATA" "$LOG"; }
trap cleanup EXIT

start() {
  if curl -s -o /dev/null "$BASE/api/health"; then echo "port $PORT is already in use"; exit 1; fi
  PORT=$PORT DATA_DIR=$DATA setsid npm start >"$LOG" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do
    curl -sf "$BASE/api/health" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$LOG"; echo "the app exited"; exit 1; }
    sleep 1
  done
  cat "$LOG"; echo "the app did not become healthy"; exit 1
}
stop() {
  kill -TERM -- "-$pid"; wait "$pid" || true; pid=""
  for _ in $(seq 1 50); do curl -s -o /dev/null "$BASE/api/health" || return 0; sleep 0.2; done
  echo "the app did not stop"; exit 1
}

start
grep -q "API key service is running at $BASE" "$LOG"
TOKEN=$(curl -s -d grant_type=password -d client_id=cli -d username=alice -d password=alice "$BASE/realms/dev/protocol/openid-connect/token" | jq -r .access_token)
[ "$TOKEN" != null ] && [ -n "$TOKEN" ]
KEY=$(curl -s -X POST "$BASE/api/keys" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"smoke"}' | jq -r .key)
case "$KEY" in sk-oh-*) ;; *) echo "no key created"; exit 1 ;; esac
curl -sf "$BASE/api/keys/current" -H "Authorization: Bearer $KEY" | jq -e '.auth_type == "api_key"' >/dev/null
stat -c '%a' "$DATA/secrets.json" | grep -qx 600
stop

start
# The same key and the same access token still work after a restart.
curl -sf "$BASE/api/keys/current" -H "Authorization: Bearer $KEY" | jq -e '.name == "smoke"' >/dev/null
curl -sf "$BASE/api/keys" -H "Authorization: Bearer $TOKEN" | jq -e 'map(.name) | index("smoke") != null' >/dev/null
stop

# Production never runs on the embedded database by accident: the built app refuses to start
# and names the setting.
set +e
refusal=$(NODE_ENV=production KEYCLOAK_URL=https://sso.example.com DATA_DIR=$DATA node dist/server/src/main.js 2>&1)
code=$?
set -e
[ "$code" = 2 ] || { echo "production without DATABASE_URL exited $code: $refusal"; exit 1; }
grep -q "DATABASE_URL: required when NODE_ENV=production" <<<"$refusal" || { echo "$refusal"; exit 1; }
echo "smoke start: ok"
