#!/usr/bin/env bash
# Local test servers without Docker: Redis (standalone + 6-node cluster), MariaDB,
# Kafka (KRaft, single node), Cassandra and OpenSearch (single node), all on 127.0.0.1.
#
#   scripts/infra.sh install              apt packages + Kafka/Cassandra/OpenSearch jars (cached, idempotent)
#   scripts/infra.sh up [component...]    start all (or the named) components and wait until ready
#   scripts/infra.sh down [component...]  stop them (pidfiles)
#   scripts/infra.sh status               show what runs
#   scripts/infra.sh env                  print `export` lines for the apps/tests
#   scripts/infra.sh reset                stop everything and wipe the state dir
#
# Components: redis redis-cluster mariadb kafka cassandra opensearch
# Versions and ports: infra/versions.env. Caches: $PLATFORM_CACHE (default ~/.cache/platform),
# data and logs: $PLATFORM_STATE (default $PLATFORM_CACHE/state).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INFRA="$ROOT/infra"
# shellcheck disable=SC1091 # KEY=value file, see infra/versions.env
source "$INFRA/versions.env"

CACHE="${PLATFORM_CACHE:-$HOME/.cache/platform}"
STATE="${PLATFORM_STATE:-$CACHE/state}"
KAFKA_HOME="$CACHE/kafka-$KAFKA_VERSION"
CASSANDRA_HOME="$CACHE/cassandra-$CASSANDRA_VERSION"
OPENSEARCH_HOME="$CACHE/opensearch-$OPENSEARCH_VERSION"
ALL_COMPONENTS=(redis redis-cluster mariadb kafka cassandra opensearch)
read -ra MARIADB_PKGS <<<"$MARIADB_DEB_PACKAGES"
read -ra CLUSTER_PORTS <<<"$REDIS_CLUSTER_PORTS"
APT_PACKAGES=("$REDIS_DEB_PACKAGE" redis-tools "${MARIADB_PKGS[@]}")

# Readiness timeouts (seconds); override from the environment on slow machines.
REDIS_TIMEOUT="${REDIS_TIMEOUT:-30}"
MARIADB_TIMEOUT="${MARIADB_TIMEOUT:-60}"
KAFKA_TIMEOUT="${KAFKA_TIMEOUT:-120}"
CASSANDRA_TIMEOUT="${CASSANDRA_TIMEOUT:-420}"
OPENSEARCH_TIMEOUT="${OPENSEARCH_TIMEOUT:-120}"

# ---------------------------------------------------------------- helpers ---

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# die with the tail of a log file
fail_with_log() {
  local what=$1 logfile=$2
  if [[ -f $logfile ]]; then
    printf '[infra] ---- last lines of %s ----\n' "$logfile" >&2
    tail -n 25 "$logfile" | cut -c1-300 >&2 || true
    printf '[infra] ----\n' >&2
  fi
  die "$what (full log: $logfile; stop leftovers with: scripts/infra.sh down)"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() {
  local pidfile=$1 pid
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

# refuse to start on a port someone else holds
require_free_port() {
  local port=$1 who=$2
  if port_open "$port"; then
    die "$who: port 127.0.0.1:$port is already in use by another process (not started by this script)"
  fi
}

# start a command detached from this shell, stdout/stderr appended to $out
spawn() {
  local pidfile=$1 out=$2
  shift 2
  setsid "$@" >>"$out" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

# keep the previous run's log as *.prev so that readiness checks only see this run
rotate_log() { [[ -f $1 ]] && mv -f "$1" "$1.prev"; return 0; }

# send TERM to the process of a pidfile (no wait); stale pidfiles are removed
signal_stop() {
  local name=$1 pidfile=$2
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  log "stopping $name (pid $(<"$pidfile"))"
  kill -TERM "$(<"$pidfile")" 2>/dev/null || true
}

# wait for the process of a pidfile to exit after signal_stop; KILL after the timeout
await_stop() {
  local name=$1 pidfile=$2 timeout=${3:-60} pid i
  [[ -f $pidfile ]] || return 0
  pid=$(<"$pidfile")
  for ((i = 0; i < timeout * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    sleep 0.2
  done
  log "WARNING: $name did not stop within ${timeout}s, sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

# wait_until <seconds> <pidfile> <check-fn> [args...]: poll until check passes; fail if the process dies
wait_until() {
  local timeout=$1 pidfile=$2 i
  shift 2
  for ((i = 0; i < timeout; i++)); do
    "$@" && return 0
    pid_alive "$pidfile" || return 2
    sleep 1
  done
  return 1
}

render() { # render <template> <dest> KEY=value...
  local template=$1 dest=$2 expr=() kv
  shift 2
  for kv in "$@"; do expr+=(-e "s#@${kv%%=*}@#${kv#*=}#g"); done
  sed "${expr[@]}" "$template" >"$dest"
}

rss_of() { # RSS in MiB of a pidfile's process
  local pidfile=$1
  pid_alive "$pidfile" || { echo "-"; return; }
  awk '/^VmRSS:/ {printf "%d MiB", $2/1024}' "/proc/$(<"$pidfile")/status"
}

# Java 17 (Cassandra 5.0 supports 11 and 17 only; Kafka 4.3 needs 17+). Override: JAVA17_HOME.
java17() {
  local candidate
  for candidate in "${JAVA17_HOME:+$JAVA17_HOME/bin/java}" /usr/lib/jvm/java-17-openjdk-*/bin/java \
    /usr/lib/jvm/temurin-17-*/bin/java "$(command -v java || true)"; do
    [[ -n $candidate && -x $candidate ]] || continue
    if "$candidate" -version 2>&1 | grep -q 'version "17\.'; then
      echo "$candidate"
      return 0
    fi
  done
  die "no Java 17 found (set JAVA17_HOME, or run: scripts/infra.sh install)"
}

valid_component() {
  local c
  for c in "${ALL_COMPONENTS[@]}"; do [[ $c == "$1" ]] && return 0; done
  die "unknown component '$1' (known: ${ALL_COMPONENTS[*]})"
}

# -------------------------------------------------------------- install ---

apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  # refresh the package lists only when apt does not know a package yet
  for pkg in "${missing[@]}"; do
    if ! apt-cache show "$pkg" >/dev/null 2>&1; then
      log "apt-get update (package lists do not know $pkg)"
      apt-get update -qq
      break
    fi
  done
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_system_packages() {
  local need=("${APT_PACKAGES[@]}")
  command -v mvn >/dev/null || need+=(maven)
  command -v curl >/dev/null || need+=(curl) # the OpenSearch readiness check
  ls /usr/lib/jvm/java-17-openjdk-*/bin/java >/dev/null 2>&1 || [[ -n ${JAVA17_HOME:-} ]] \
    || need+=(openjdk-17-jdk-headless)
  apt_install "${need[@]}"
  local major
  major=$(redis-server --version | sed -n 's/.* v=\([0-9]*\)\..*/\1/p')
  [[ $major == "$REDIS_MAJOR" ]] || log "WARNING: redis-server major is $major, versions.env expects $REDIS_MAJOR"
  mariadbd --version 2>/dev/null | grep -q "Ver $MARIADB_MAJOR_MINOR\." \
    || log "WARNING: mariadbd is not $MARIADB_MAJOR_MINOR.x: $(mariadbd --version 2>&1 || true)"
}

# maven_fetch <name> <home> <pom> -Dprop=value...: copy the server jars + runtime deps to <home>/lib once
maven_fetch() {
  local name=$1 home=$2 pom=$3
  shift 3
  if [[ -f $home/.complete ]]; then
    log "$name: cached in $home"
    return 0
  fi
  log "$name: fetching jars from Maven Central into $home/lib (takes a minute the first time)"
  rm -rf "$home/lib.tmp"
  mkdir -p "$home"
  if ! mvn -B -q -f "$pom" "$@" \
    -Ddependency.plugin.version="$MAVEN_DEPENDENCY_PLUGIN_VERSION" \
    dependency:copy-dependencies -DoutputDirectory="$home/lib.tmp" >"$home/fetch.log" 2>&1; then
    fail_with_log "$name: maven fetch failed" "$home/fetch.log"
  fi
  rm -rf "${home:?}/lib"
  mv "$home/lib.tmp" "$home/lib"
  date -u +%FT%TZ >"$home/.complete"
  log "$name: $(find "$home/lib" -name '*.jar' | wc -l) jars, $(du -sh "$home/lib" | cut -f1)"
}

# jar_base <file>: a jar's name without its version, as OpenSearch's security policy names codebases
jar_base() { basename "$1" | sed -E 's/-[0-9]+\.[0-9]+.*\.jar$//; s/\.jar$//'; }

# opensearch_fetch <pom> <dir> <log> -Dprop=value...: one Maven fetch of OpenSearch jars into <dir>
opensearch_fetch() {
  local pom=$1 dir=$2 logfile=$3
  shift 3
  mvn -B -q -f "$pom" "$@" -Dopensearch.version="$OPENSEARCH_VERSION" \
    -Dlog4j2.version="$OPENSEARCH_LOG4J_VERSION" \
    -Ddependency.plugin.version="$MAVEN_DEPENDENCY_PLUGIN_VERSION" \
    dependency:copy-dependencies -DoutputDirectory="$dir" >>"$logfile" 2>&1
}

# OpenSearch as its distribution lays it out: lib/ (the server and its dependencies), modules/<name>/
# (each module's jars, less those lib/ or an extended module has, with a generated
# plugin-descriptor.properties) and an empty plugins/. Built in a staging directory of this run, then
# moved into place, so a killed install leaves nothing half made.
install_opensearch() {
  local name="opensearch $OPENSEARCH_VERSION" home=$OPENSEARCH_HOME
  if [[ -f $home/.complete ]]; then
    log "$name: cached in $home"
    return 0
  fi
  local staging="$home.partial.$$" logfile="$home.fetch.log"
  log "$name: fetching the server and modules from Maven Central into $home (takes a minute the first time)"
  rm -rf "$staging"
  mkdir -p "$staging"/{bin,lib,modules,plugins} # bin/: the node makes it when it is missing
  : >"$logfile"
  opensearch_fetch "$INFRA/opensearch/pom.xml" "$staging/lib" "$logfile" \
    || { rm -rf "$staging"; fail_with_log "$name: maven fetch of the server failed" "$logfile"; }
  local api core
  api=$(find "$staging/lib" -name 'log4j-api-*.jar' -printf '%f\n')
  core=$(find "$staging/lib" -name 'log4j-core-*.jar' -printf '%f\n')
  [[ ${api#log4j-api-} == "${core#log4j-core-}" ]] || {
    rm -rf "$staging"
    die "$name: $api but $core: set OPENSEARCH_LOG4J_VERSION in versions.env to the log4j-api version"
  }
  local dir artifact classname extends mdir jar base ext policy
  while read -r dir artifact classname extends; do
    mdir="$staging/modules/$dir"
    opensearch_fetch "$INFRA/opensearch/module-pom.xml" "$mdir" "$logfile" -Dmodule.artifact="$artifact" \
      || { rm -rf "$staging"; fail_with_log "$name: maven fetch of module $artifact failed" "$logfile"; }
    # a class must be found once: drop what the server or an extended module already provides
    for jar in "$mdir"/*.jar; do
      base=$(jar_base "$jar")
      if compgen -G "$staging/lib/$base-[0-9]*.jar" >/dev/null; then
        rm -f "$jar"
        continue
      fi
      [[ $extends == - ]] && continue
      for ext in ${extends//,/ }; do
        compgen -G "$staging/modules/$ext/$base-[0-9]*.jar" >/dev/null && rm -f "$jar"
      done
    done
    {
      echo "description=OpenSearch module $dir ($artifact from Maven Central, laid out by scripts/infra.sh)"
      echo "version=$OPENSEARCH_VERSION"
      echo "name=$dir"
      echo "classname=$classname"
      echo "java.version=11"
      echo "opensearch.version=$OPENSEARCH_VERSION"
      [[ $extends == - ]] || echo "extended.plugins=$extends"
      echo "has.native.controller=false"
    } >"$mdir/plugin-descriptor.properties"
    policy="$INFRA/opensearch/modules/$dir/plugin-security.policy"
    [[ -f $policy ]] && cp "$policy" "$mdir/"
  done < <(grep -Ev '^[[:space:]]*(#|$)' "$INFRA/opensearch/modules.conf")
  if [[ -f $home/.complete ]]; then # another install finished first
    rm -rf "$staging"
    return 0
  fi
  date -u +%FT%TZ >"$staging/.complete"
  rm -rf "$home"
  mv "$staging" "$home"
  log "$name: $(find "$home/lib" -name '*.jar' | wc -l) jars in lib/ and $(find "$home/modules" -mindepth 1 \
    -maxdepth 1 | wc -l) modules, $(du -sh "$home" | cut -f1)"
}

cmd_install() {
  install_system_packages
  maven_fetch "kafka $KAFKA_VERSION" "$KAFKA_HOME" "$INFRA/kafka/pom.xml" \
    -Dkafka.version="$KAFKA_VERSION" -Dscala.binary.version="$SCALA_VERSION"
  maven_fetch "cassandra $CASSANDRA_VERSION" "$CASSANDRA_HOME" "$INFRA/cassandra/pom.xml" \
    -Dcassandra.version="$CASSANDRA_VERSION"
  install_opensearch
  log "install done"
}

require_installed() {
  case $1 in
    redis | redis-cluster) command -v redis-server >/dev/null && command -v redis-cli >/dev/null ;;
    mariadb) command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null ;;
    kafka) [[ -f $KAFKA_HOME/.complete ]] ;;
    cassandra) [[ -f $CASSANDRA_HOME/.complete ]] ;;
    opensearch) [[ -f $OPENSEARCH_HOME/.complete ]] ;;
  esac || die "$1 is not installed; run: scripts/infra.sh install"
}

# ---------------------------------------------------------------- redis ---

# start_redis_node <dir> <port> [cluster]
start_redis_node() {
  local dir=$1 port=$2 cluster=${3:-}
  mkdir -p "$dir"
  if pid_alive "$dir/redis.pid"; then
    log "redis :$port already running"
    return 0
  fi
  require_free_port "$port" "redis"
  {
    echo "port $port"
    echo "bind 127.0.0.1"
    echo "dir $dir"
    echo "daemonize no"
    echo "save \"\""
    echo "appendonly no"
    echo "logfile $dir/redis.log"
    if [[ -n $cluster ]]; then
      echo "cluster-enabled yes"
      echo "cluster-config-file $dir/nodes.conf"
      echo "cluster-node-timeout 5000"
    fi
  } >"$dir/redis.conf"
  spawn "$dir/redis.pid" "$dir/redis.out" redis-server "$dir/redis.conf"
}

redis_pong() { [[ $(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]; }

wait_redis_node() {
  local dir=$1 port=$2
  wait_until "$REDIS_TIMEOUT" "$dir/redis.pid" redis_pong "$port" \
    || fail_with_log "redis :$port did not answer PING within ${REDIS_TIMEOUT}s" "$dir/redis.log"
}

start_redis() { start_redis_node "$STATE/redis" "$REDIS_PORT"; }
wait_redis() {
  wait_redis_node "$STATE/redis" "$REDIS_PORT"
  log "redis ready on 127.0.0.1:$REDIS_PORT"
}
# stoppables_<component>: one "name|pidfile|timeout" line per process
stoppables_redis() { echo "redis :$REDIS_PORT|$STATE/redis/redis.pid|30"; }

start_redis_cluster() {
  local port
  for port in "${CLUSTER_PORTS[@]}"; do
    start_redis_node "$STATE/redis-cluster/$port" "$port" cluster
  done
}

cluster_state_ok() { redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }
cluster_known_nodes() {
  redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p'
}

wait_redis_cluster() {
  local port first nodes=() n
  for port in "${CLUSTER_PORTS[@]}"; do
    wait_redis_node "$STATE/redis-cluster/$port" "$port"
    nodes+=("127.0.0.1:$port")
  done
  first=${nodes[0]##*:}
  n=$(cluster_known_nodes "$first")
  if [[ ${n:-1} -lt ${#nodes[@]} ]]; then
    log "redis-cluster: creating cluster (3 primaries, 3 replicas)"
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes \
      >"$STATE/redis-cluster/create.log" 2>&1 \
      || fail_with_log "redis-cluster: cluster create failed" "$STATE/redis-cluster/create.log"
  fi
  for port in "${CLUSTER_PORTS[@]}"; do
    wait_until "$REDIS_TIMEOUT" "$STATE/redis-cluster/$port/redis.pid" cluster_state_ok "$port" \
      || fail_with_log "redis-cluster: node :$port not cluster_state:ok within ${REDIS_TIMEOUT}s" \
        "$STATE/redis-cluster/$port/redis.log"
  done
  log "redis-cluster ready on ${nodes[*]}"
}

stoppables_redis_cluster() {
  local port
  for port in "${CLUSTER_PORTS[@]}"; do
    echo "redis-cluster :$port|$STATE/redis-cluster/$port/redis.pid|30"
  done
}

# -------------------------------------------------------------- mariadb ---

MARIADB_DIR="$STATE/mariadb"
MARIADB_SOCKET="$MARIADB_DIR/run/mariadb.sock"

mariadb_socket_sql() { mariadb --no-defaults --protocol=socket -S "$MARIADB_SOCKET" -uroot "$@"; }
mariadb_tcp_sql() {
  MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MARIADB_PORT" -uroot "$@"
}
mariadb_socket_ready() { mariadb_socket_sql -e 'SELECT 1' >/dev/null 2>&1; }

start_mariadb() {
  mkdir -p "$MARIADB_DIR"/{data,run,log}
  if pid_alive "$MARIADB_DIR/mariadb.pid"; then
    log "mariadb already running"
    return 0
  fi
  require_free_port "$MARIADB_PORT" mariadb
  if [[ ! -d $MARIADB_DIR/data/mysql ]]; then
    log "mariadb: initialising datadir $MARIADB_DIR/data"
    mariadb-install-db --no-defaults --user=root --datadir="$MARIADB_DIR/data" \
      --auth-root-authentication-method=socket --skip-test-db --skip-name-resolve \
      >"$MARIADB_DIR/log/install-db.log" 2>&1 \
      || fail_with_log "mariadb-install-db failed" "$MARIADB_DIR/log/install-db.log"
  fi
  rotate_log "$MARIADB_DIR/log/error.log"
  spawn "$MARIADB_DIR/mariadb.pid" "$MARIADB_DIR/log/mariadbd.out" \
    mariadbd --no-defaults --user=root \
    --datadir="$MARIADB_DIR/data" --socket="$MARIADB_SOCKET" \
    --port="$MARIADB_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
    --pid-file="$MARIADB_DIR/run/mariadbd.pid" --log-error="$MARIADB_DIR/log/error.log" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=128M --max-connections=300 --skip-log-bin
}

# root over TCP with a password, the app database and an app user; idempotent
mariadb_bootstrap() {
  mariadb_socket_sql <<SQL
CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '$MARIADB_ROOT_PASSWORD';
ALTER USER 'root'@'%' IDENTIFIED BY '$MARIADB_ROOT_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$MARIADB_USER'@'%' IDENTIFIED BY '$MARIADB_PASSWORD';
ALTER USER '$MARIADB_USER'@'%' IDENTIFIED BY '$MARIADB_PASSWORD';
GRANT ALL PRIVILEGES ON \`$MARIADB_DATABASE\`.* TO '$MARIADB_USER'@'%';
FLUSH PRIVILEGES;
SQL
}

wait_mariadb() {
  wait_until "$MARIADB_TIMEOUT" "$MARIADB_DIR/mariadb.pid" mariadb_socket_ready \
    || fail_with_log "mariadb did not accept connections within ${MARIADB_TIMEOUT}s" "$MARIADB_DIR/log/error.log"
  mariadb_bootstrap || fail_with_log "mariadb: creating users/database failed" "$MARIADB_DIR/log/error.log"
  mariadb_tcp_sql -e 'SELECT 1' "$MARIADB_DATABASE" >/dev/null \
    || fail_with_log "mariadb: root cannot log in over TCP on :$MARIADB_PORT" "$MARIADB_DIR/log/error.log"
  log "mariadb ready on 127.0.0.1:$MARIADB_PORT (database $MARIADB_DATABASE)"
}

stoppables_mariadb() { echo "mariadb|$MARIADB_DIR/mariadb.pid|60"; }

# ---------------------------------------------------------------- kafka ---

KAFKA_DIR="$STATE/kafka"

kafka_java() { # kafka_java <main-class> args...: run a Kafka tool class from the cached jars
  local java
  java=$(java17)
  "$java" -Xmx256m -Dlog4j2.configurationFile="$INFRA/kafka/tools-log4j2.xml" \
    -cp "$KAFKA_HOME/lib/*" "$@"
}

start_kafka() {
  mkdir -p "$KAFKA_DIR"/{data,logs}
  if pid_alive "$KAFKA_DIR/kafka.pid"; then
    log "kafka already running"
    KAFKA_WAS_RUNNING=1
    return 0
  fi
  require_free_port "$KAFKA_PORT" kafka
  require_free_port "$KAFKA_CONTROLLER_PORT" "kafka controller"
  render "$INFRA/kafka/server.properties" "$KAFKA_DIR/server.properties" \
    KAFKA_PORT="$KAFKA_PORT" KAFKA_CONTROLLER_PORT="$KAFKA_CONTROLLER_PORT" DATA_DIR="$KAFKA_DIR/data"
  if [[ ! -f $KAFKA_DIR/data/meta.properties ]]; then
    [[ -f $KAFKA_DIR/cluster.id ]] || kafka_java kafka.tools.StorageTool random-uuid >"$KAFKA_DIR/cluster.id"
    log "kafka: formatting KRaft storage (cluster id $(<"$KAFKA_DIR/cluster.id"))"
    kafka_java kafka.tools.StorageTool format -t "$(<"$KAFKA_DIR/cluster.id")" \
      -c "$KAFKA_DIR/server.properties" >"$KAFKA_DIR/logs/format.log" 2>&1 \
      || fail_with_log "kafka: storage format failed" "$KAFKA_DIR/logs/format.log"
  fi
  local java
  java=$(java17)
  rotate_log "$KAFKA_DIR/logs/server.log"
  spawn "$KAFKA_DIR/kafka.pid" "$KAFKA_DIR/logs/kafka.out" \
    "$java" -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_DIR/logs" -Dlog4j2.configurationFile="$INFRA/kafka/log4j2.xml" \
    -cp "$KAFKA_HOME/lib/*" kafka.Kafka "$KAFKA_DIR/server.properties"
}

# wait_jvm NAME TIMEOUT DIR LOG PORT: waits for NAME_ready; on failure shows DIR/logs/LOG,
# or the process's own output when the log is still empty.
wait_jvm() {
  local name=$1 timeout=$2 dir=$3 log_name=$4 port=$5 rc=0
  wait_until "$timeout" "$dir/$name.pid" "${name}_ready" || rc=$?
  ((rc == 0)) && { log "$name ready on 127.0.0.1:$port"; return 0; }
  local logfile="$dir/logs/$log_name"
  [[ -s $logfile ]] || logfile="$dir/logs/$name.out"
  ((rc == 2)) && fail_with_log "$name exited during startup" "$logfile"
  fail_with_log "$name not ready within ${timeout}s" "$logfile"
}

# A server found running was ready long ago: its start-up line may be in a rolled-over log
# (Cassandra's log rolls at midnight, Kafka's at 50 MB), so its open port is enough.
KAFKA_WAS_RUNNING=0
CASSANDRA_WAS_RUNNING=0

kafka_ready() {
  port_open "$KAFKA_PORT" || return 1
  ((KAFKA_WAS_RUNNING)) || grep -q 'Kafka Server started' "$KAFKA_DIR/logs/server.log" 2>/dev/null
}

wait_kafka() {
  wait_jvm kafka "$KAFKA_TIMEOUT" "$KAFKA_DIR" server.log "$KAFKA_PORT"
}

stoppables_kafka() { echo "kafka|$KAFKA_DIR/kafka.pid|90"; }

# ------------------------------------------------------------ cassandra ---

CASSANDRA_DIR="$STATE/cassandra"

start_cassandra() {
  mkdir -p "$CASSANDRA_DIR"/{data,logs,conf,triggers}
  if pid_alive "$CASSANDRA_DIR/cassandra.pid"; then
    log "cassandra already running"
    CASSANDRA_WAS_RUNNING=1
    return 0
  fi
  local port
  for port in "$CASSANDRA_NATIVE_PORT" "$CASSANDRA_STORAGE_PORT" "$CASSANDRA_JMX_PORT"; do
    require_free_port "$port" cassandra
  done
  render "$INFRA/cassandra/cassandra.yaml.tmpl" "$CASSANDRA_DIR/conf/cassandra.yaml" \
    DATA_DIR="$CASSANDRA_DIR/data" CASSANDRA_NATIVE_PORT="$CASSANDRA_NATIVE_PORT" \
    CASSANDRA_STORAGE_PORT="$CASSANDRA_STORAGE_PORT" CASSANDRA_SSL_STORAGE_PORT="$CASSANDRA_SSL_STORAGE_PORT"
  local jvm_opts=()
  mapfile -t jvm_opts < <(grep -Ev '^[[:space:]]*(#|$)' "$INFRA/cassandra/jvm17-server.options")
  local jamm java
  jamm=$(find "$CASSANDRA_HOME/lib" -name 'jamm-*.jar' | head -n1)
  java=$(java17)
  rotate_log "$CASSANDRA_DIR/logs/system.log"
  spawn "$CASSANDRA_DIR/cassandra.pid" "$CASSANDRA_DIR/logs/cassandra.out" \
    "$java" "${jvm_opts[@]}" -Xms"$CASSANDRA_HEAP" -Xmx"$CASSANDRA_HEAP" \
    -javaagent:"$jamm" \
    -Dcassandra.jmx.local.port="$CASSANDRA_JMX_PORT" \
    -Dcassandra.config="file://$CASSANDRA_DIR/conf/cassandra.yaml" \
    -Dcassandra.storagedir="$CASSANDRA_DIR/data" \
    -Dcassandra.logdir="$CASSANDRA_DIR/logs" \
    -Dcassandra.triggers_dir="$CASSANDRA_DIR/triggers" \
    -Dlogback.configurationFile="file://$INFRA/cassandra/logback.xml" \
    -Dcassandra-foreground=yes \
    -cp "$CASSANDRA_HOME/lib/*" org.apache.cassandra.service.CassandraDaemon
}

cassandra_ready() {
  port_open "$CASSANDRA_NATIVE_PORT" || return 1
  ((CASSANDRA_WAS_RUNNING)) ||
    grep -q 'Startup complete' "$CASSANDRA_DIR/logs/system.log" 2>/dev/null
}

wait_cassandra() {
  wait_jvm cassandra "$CASSANDRA_TIMEOUT" "$CASSANDRA_DIR" system.log "$CASSANDRA_NATIVE_PORT"
}

stoppables_cassandra() { echo "cassandra|$CASSANDRA_DIR/cassandra.pid|90"; }

# ----------------------------------------------------------- opensearch ---

OPENSEARCH_DIR="$STATE/opensearch"
OPENSEARCH_URL="http://127.0.0.1:$OPENSEARCH_HTTP_PORT"

start_opensearch() {
  mkdir -p "$OPENSEARCH_DIR"/{config,data,logs,tmp}
  if pid_alive "$OPENSEARCH_DIR/opensearch.pid"; then
    log "opensearch already running"
    return 0
  fi
  require_free_port "$OPENSEARCH_HTTP_PORT" opensearch
  require_free_port "$OPENSEARCH_TRANSPORT_PORT" "opensearch transport"
  # the config dir is the node's own (it writes opensearch.keystore there), the home is the cache
  render "$INFRA/opensearch/opensearch.yml.tmpl" "$OPENSEARCH_DIR/config/opensearch.yml" \
    HTTP_PORT="$OPENSEARCH_HTTP_PORT" TRANSPORT_PORT="$OPENSEARCH_TRANSPORT_PORT" \
    DATA_DIR="$OPENSEARCH_DIR/data" LOGS_DIR="$OPENSEARCH_DIR/logs"
  cp "$INFRA/opensearch/log4j2.properties" "$OPENSEARCH_DIR/config/log4j2.properties"
  local jvm_opts=() java
  mapfile -t jvm_opts < <(grep -Ev '^[[:space:]]*(#|$)' "$INFRA/opensearch/jvm.options")
  java=$(java17)
  # OpenSearch refuses to run as root, and finds out through JNA; as root (CI, containers) start it
  # without its native helpers (no seccomp filter, no mlockall; neither matters to a test server)
  if [[ $(id -u) == 0 ]]; then
    jvm_opts+=(-Djna.nounpack=true)
  fi
  rotate_log "$OPENSEARCH_DIR/logs/opensearch.log"
  spawn "$OPENSEARCH_DIR/opensearch.pid" "$OPENSEARCH_DIR/logs/opensearch.out" \
    "$java" "${jvm_opts[@]}" -Xms"$OPENSEARCH_HEAP" -Xmx"$OPENSEARCH_HEAP" \
    -Djava.io.tmpdir="$OPENSEARCH_DIR/tmp" \
    -Dopensearch.path.home="$OPENSEARCH_HOME" \
    -Dopensearch.path.conf="$OPENSEARCH_DIR/config" \
    -Dopensearch.distribution.type=tar -Dopensearch.bundled_jdk=false \
    -cp "$OPENSEARCH_HOME/lib/*" org.opensearch.bootstrap.OpenSearch
}

opensearch_ready() {
  curl -fsS --max-time 2 "$OPENSEARCH_URL/_cluster/health" 2>/dev/null | grep -Eq '"status":"(green|yellow)"'
}

wait_opensearch() {
  wait_jvm opensearch "$OPENSEARCH_TIMEOUT" "$OPENSEARCH_DIR" opensearch.log "$OPENSEARCH_HTTP_PORT"
}

stoppables_opensearch() { echo "opensearch|$OPENSEARCH_DIR/opensearch.pid|60"; }

# -------------------------------------------------------------- commands ---

fn_suffix() { echo "${1//-/_}"; }

components_or_all() {
  if (($#)); then
    local c
    for c in "$@"; do valid_component "$c"; done
    printf '%s\n' "$@"
  else
    printf '%s\n' "${ALL_COMPONENTS[@]}"
  fi
}

cmd_up() {
  local comps c start
  mapfile -t comps < <(components_or_all "$@")
  start=$(date +%s)
  for c in "${comps[@]}"; do require_installed "$c"; done
  # start everything first, then wait: the slow JVMs boot in parallel
  for c in "${comps[@]}"; do
    log "starting $c"
    "start_$(fn_suffix "$c")"
  done
  for c in "${comps[@]}"; do
    log "waiting for $c"
    "wait_$(fn_suffix "$c")"
  done
  log "up: ${comps[*]} ready in $(($(date +%s) - start))s"
}

cmd_down() {
  local comps c procs=() p name pidfile timeout
  mapfile -t comps < <(components_or_all "$@")
  for c in "${comps[@]}"; do
    mapfile -t -O "${#procs[@]}" procs < <("stoppables_$(fn_suffix "$c")")
  done
  # TERM everything first, then wait: the JVMs shut down in parallel
  for p in "${procs[@]}"; do
    IFS='|' read -r name pidfile timeout <<<"$p"
    signal_stop "$name" "$pidfile"
  done
  for p in "${procs[@]}"; do
    IFS='|' read -r name pidfile timeout <<<"$p"
    await_stop "$name" "$pidfile" "$timeout"
  done
}

status_line() { printf '%-14s %-8s %-10s %s\n' "$@"; }

cmd_status() {
  local port
  status_line COMPONENT STATE RSS ENDPOINT
  status_line redis "$(pid_alive "$STATE/redis/redis.pid" && echo up || echo down)" \
    "$(rss_of "$STATE/redis/redis.pid")" "127.0.0.1:$REDIS_PORT"
  for port in "${CLUSTER_PORTS[@]}"; do
    local st=down
    if pid_alive "$STATE/redis-cluster/$port/redis.pid"; then
      st=up
      cluster_state_ok "$port" || st=up/nok
    fi
    status_line "redis-cluster" "$st" "$(rss_of "$STATE/redis-cluster/$port/redis.pid")" "127.0.0.1:$port"
  done
  status_line mariadb "$(pid_alive "$MARIADB_DIR/mariadb.pid" && echo up || echo down)" \
    "$(rss_of "$MARIADB_DIR/mariadb.pid")" "127.0.0.1:$MARIADB_PORT"
  status_line kafka "$(pid_alive "$KAFKA_DIR/kafka.pid" && echo up || echo down)" \
    "$(rss_of "$KAFKA_DIR/kafka.pid")" "127.0.0.1:$KAFKA_PORT"
  status_line cassandra "$(pid_alive "$CASSANDRA_DIR/cassandra.pid" && echo up || echo down)" \
    "$(rss_of "$CASSANDRA_DIR/cassandra.pid")" "127.0.0.1:$CASSANDRA_NATIVE_PORT"
  status_line opensearch "$(pid_alive "$OPENSEARCH_DIR/opensearch.pid" && echo up || echo down)" \
    "$(rss_of "$OPENSEARCH_DIR/opensearch.pid")" "127.0.0.1:$OPENSEARCH_HTTP_PORT"
  echo "state: $STATE"
}

cmd_env() {
  local cluster_nodes="" port
  for port in "${CLUSTER_PORTS[@]}"; do cluster_nodes+="${cluster_nodes:+,}127.0.0.1:$port"; done
  cat <<EOF
export REDIS_URL=redis://127.0.0.1:$REDIS_PORT
export REDIS_CLUSTER_NODES=$cluster_nodes
export MYSQL_URL=mysql://root:$MARIADB_ROOT_PASSWORD@127.0.0.1:$MARIADB_PORT/$MARIADB_DATABASE
export MYSQL_APP_URL=mysql://$MARIADB_USER:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/$MARIADB_DATABASE
export KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
export CASSANDRA_CONTACT_POINTS=127.0.0.1:$CASSANDRA_NATIVE_PORT
export CASSANDRA_LOCAL_DC=$CASSANDRA_LOCAL_DC
export OPENSEARCH_URL=$OPENSEARCH_URL
EOF
}

cmd_reset() {
  cmd_down
  log "wiping $STATE"
  rm -rf "$STATE"
}

usage() {
  # the header comment, up to the first line that is not one
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}"
}

main() {
  local cmd=${1:-help}
  (($#)) && shift
  case $cmd in
    install) cmd_install ;;
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status ;;
    env) cmd_env ;;
    reset) cmd_reset ;;
    help | -h | --help) usage ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
