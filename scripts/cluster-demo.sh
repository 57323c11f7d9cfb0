#!/usr/bin/env bash
# Starts a throwaway PostgreSQL and three BanActors servers that form one Akka.NET cluster, for trying cluster
# mode by hand. Ctrl-C stops the servers and removes the database.
#
#   scripts/cluster-demo.sh            # or: dotnet pwsh ./build.ps1 cluster-demo
#
# Nodes: HTTP on 127.0.0.1:5001-5003, Akka.Remote on 127.0.0.1:4053-4055 (node 1 is the seed).
# Every node serves the same app: App-Key "demo", App-Secret "demo-secret".
# Environment: PG_PORT (default 54329), HTTP_BASE (5001), AKKA_BASE (4053), NODES (3).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT="${PG_PORT:-54329}"
HTTP_BASE="${HTTP_BASE:-5001}"
AKKA_BASE="${AKKA_BASE:-4053}"
NODES="${NODES:-3}"
PG_USER_OS="banactors-pg"

find_pg_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    if [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  done
  echo "PostgreSQL server binaries (initdb, pg_ctl) not found; install PostgreSQL 15+" >&2
  exit 1
}
PG_BIN="$(find_pg_bin)"

# initdb refuses to run as root: run the server as a system user then, as the tests do.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$PG_USER_OS" -- "$@"; else "$@"; fi
}
if [ "$(id -u)" -eq 0 ] && ! id -u "$PG_USER_OS" >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_OS"
fi

ROOT="$(mktemp -d /tmp/banactors-demo-XXXXXX)"
chmod 755 "$ROOT"
mkdir -p "$ROOT/pg"
[ "$(id -u)" -eq 0 ] && chown "$PG_USER_OS" "$ROOT/pg"
PIDS=()

cleanup() {
  trap - INT TERM EXIT
  echo
  echo "Stopping the cluster..."
  # SIGTERM, not SIGINT: background jobs of a script ignore SIGINT. Each server then leaves the cluster gracefully
  # (CoordinatedShutdown). The server is a child of its `dotnet run`.
  for pid in "${PIDS[@]}"; do pkill -TERM -P "$pid" 2>/dev/null || true; kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  as_pg "$PG_BIN/pg_ctl" stop -D "$ROOT/pg/data" -m fast >/dev/null 2>&1 || true
  rm -rf "$ROOT"
  echo "Stopped; $ROOT removed."
}
trap cleanup INT TERM EXIT

echo "Starting PostgreSQL on 127.0.0.1:$PG_PORT (data in $ROOT/pg)..."
as_pg "$PG_BIN/initdb" -D "$ROOT/pg/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null
as_pg "$PG_BIN/pg_ctl" start -D "$ROOT/pg/data" -l "$ROOT/pg/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$ROOT/pg'" >/dev/null
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "CREATE DATABASE banactors" >/dev/null
CONNECTION="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=banactors"

echo "Building the server..."
dotnet build src/BanActors.Server -c Release -v quiet -nologo >/dev/null

SEED="127.0.0.1:$AKKA_BASE"
for i in $(seq 1 "$NODES"); do
  http=$((HTTP_BASE + i - 1)); akka=$((AKKA_BASE + i - 1))
  mkdir -p "$ROOT/node$i"
  echo "Starting node $i: http://127.0.0.1:$http (Akka.Remote $akka), log $ROOT/node$i/server.log"
  (exec dotnet run --no-build -c Release --project src/BanActors.Server -- \
    --urls "http://127.0.0.1:$http" \
    --BanActors:Mode=Cluster \
    --BanActors:Storage:Provider=PostgreSql \
    --BanActors:Storage:ConnectionString="$CONNECTION" \
    --BanActors:Cluster:Hostname=127.0.0.1 \
    --BanActors:Cluster:Port="$akka" \
    --BanActors:Cluster:SeedNodes:0="$SEED" \
    --BanActors:Apps:0:AppKey=demo \
    --BanActors:Apps:0:AppSecret=demo-secret \
    >"$ROOT/node$i/server.log" 2>&1) &
  PIDS+=($!)
  # The seed forms the cluster; the others join it once it answers.
  if [ "$i" -eq 1 ]; then
    for _ in $(seq 1 60); do
      curl -sf "http://127.0.0.1:$http/healthz" >/dev/null 2>&1 && break
      sleep 1
    done
  fi
done

echo
echo "Cluster of $NODES nodes starting. Try, once they are up:"
echo "  curl -s http://127.0.0.1:$HTTP_BASE/healthz"
echo "  tail -f $ROOT/node*/server.log"
echo "Ctrl-C stops everything."
wait
