#!/usr/bin/env bash
# Kubernetes tooling for the packaging checks, built or installed here because
# no container runtime, cluster or release download is reachable:
#
#   helm            go install helm.sh/helm/v4/cmd/helm (Go module proxy)
#   k6              built from infra/kube/k6 (go.k6.io/k6/v2, unmodified; the proxy lists
#                   no versions of it, which `go install pkg@version` needs)
#   kube-apiserver  built from infra/kube/apiserver (k8s.io/kubernetes, staging modules pinned)
#   etcd            built from infra/kube/etcd (go.etcd.io/etcd/server/v3)
#   tiltfile-check  built from infra/kube/tiltfile-check: runs the Tiltfile in go.starlark.net,
#                   Tilt's interpreter, with its builtins recorded (Tilt itself is not served)
#   vtexplain       built from infra/kube/vtexplain (vitess.io/vitess's own cmd/vtexplain): Vitess's
#                   query planner without a cluster, for test/vitess
#   promtool        Debian's prometheus package, which also brings the prometheus server
#   graphhopper     the navigation benchmark's peer router: services/navigation/peer/graphhopper
#                   built with Maven against com.graphhopper:graphhopper-core from Maven Central;
#                   the tool is a launcher script beside the runner jar and its lib/ (needs JDK 17+
#                   and Maven to build, Java 17+ to run)
#
#   scripts/tools.sh install [tool...]   build what is missing, or only the tools named
#                                        (cached under $PLATFORM_CACHE/tools)
#   scripts/tools.sh env       print `export` lines: PATH and one variable per tool
#   scripts/tools.sh status    show which tools are built
#
# Versions: infra/versions.env, the go.mod files under infra/kube and the runner's pom.xml.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091 # KEY=value file, see infra/versions.env
source "$ROOT/infra/versions.env"
CACHE="${PLATFORM_CACHE:-$HOME/.cache/platform}"
TOOLS="$CACHE/tools"
ALL_TOOLS=(promtool helm k6 tiltfile-check etcd kube-apiserver vtexplain graphhopper)

log() { printf '[tools] %s\n' "$*" >&2; }
die() { printf '[tools] ERROR: %s\n' "$*" >&2; exit 1; }

# A build module's cache key: what it pins and what it builds.
module_key() { cat "$1/go.mod" "$1/go.sum" "$1"/*.go | sha256sum | cut -c1-12; }
# A Maven project's: its pom, its sources and the GraphHopper version passed to it.
maven_key() {
  { echo "$GRAPHHOPPER_VERSION"; cat "$1/pom.xml"; find "$1/src" -type f -print0 | sort -z | xargs -0 cat; } \
    | sha256sum | cut -c1-12
}
GRAPHHOPPER_SRC="$ROOT/services/navigation/peer/graphhopper"

dir_of() {
  case $1 in
    helm) echo "$TOOLS/helm-$HELM_VERSION" ;;
    k6) echo "$TOOLS/k6-$(module_key "$ROOT/infra/kube/k6")" ;;
    kube-apiserver) echo "$TOOLS/kube-apiserver-$(module_key "$ROOT/infra/kube/apiserver")" ;;
    etcd) echo "$TOOLS/etcd-$(module_key "$ROOT/infra/kube/etcd")" ;;
    tiltfile-check) echo "$TOOLS/tiltfile-check-$(module_key "$ROOT/infra/kube/tiltfile-check")" ;;
    vtexplain) echo "$TOOLS/vtexplain-$(module_key "$ROOT/infra/kube/vtexplain")" ;;
    graphhopper) echo "$TOOLS/graphhopper-$GRAPHHOPPER_VERSION-$(maven_key "$GRAPHHOPPER_SRC")" ;;
    *) die "unknown tool $1" ;;
  esac
}

require_go() {
  command -v go >/dev/null || die "Go is needed to build $1 (https://go.dev/doc/install; Go 1.26 or newer)"
}

# The runner is compiled for Java 17, GraphHopper 11's own target.
require_jdk_maven() {
  local missing=() major
  command -v java >/dev/null || missing+=(java)
  command -v javac >/dev/null || missing+=("javac (a JDK, not only a JRE)")
  command -v mvn >/dev/null || missing+=("mvn (Maven 3.6.3 or newer)")
  ((${#missing[@]} == 0)) || die "building $1 needs JDK 17+ and Maven; missing: ${missing[*]}"
  major=$(javac -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p')
  [[ -n $major && $major -ge 17 ]] ||
    die "building $1 needs JDK 17 or newer; javac is $(javac -version 2>&1)"
}

# build <tool> <command...>: run the command with GOBIN and -o pointing into a
# staging directory, then move it into place, so a killed build leaves nothing half made.
build() {
  local tool=$1 dest staging started
  shift
  dest=$(dir_of "$tool")
  [[ -x $dest/$tool ]] && return 0
  if [[ $tool == graphhopper ]]; then require_jdk_maven "$tool"; else require_go "$tool"; fi
  # One staging directory per run, so two installs at once do not share one.
  staging="$dest.partial.$$"
  mkdir -p "$staging"
  started=$SECONDS
  log "building $tool into $dest (several minutes on a cold Go or Maven cache)"
  OUT="$staging" "$@" || { rm -rf "$staging"; die "building $tool failed"; }
  [[ -x $staging/$tool ]] || die "building $tool produced no $staging/$tool"
  if [[ -x $dest/$tool ]]; then rm -rf "$staging"; return 0; fi # the other run finished first
  rm -rf "$dest"
  mv "$staging" "$dest"
  log "built $tool in $((SECONDS - started))s"
}

build_helm() {
  GOBIN="$OUT" GOFLAGS=-trimpath go install -ldflags='-s -w' "helm.sh/helm/v4/cmd/helm@v$HELM_VERSION"
}
build_module() { # build_module <dir> <binary>
  (cd "$1" && go build -mod=readonly -trimpath -ldflags='-s -w' -o "$OUT/$2" .)
}

# The runner jar and its runtime jars (lib/), plus a launcher that finds them beside itself. Maven's
# build directory is inside the staging directory, so the source tree gets no target/.
build_graphhopper() {
  mvn -B -q -f "$GRAPHHOPPER_SRC/pom.xml" -Dgraphhopper.version="$GRAPHHOPPER_VERSION" \
    -Ddependency.plugin.version="$MAVEN_DEPENDENCY_PLUGIN_VERSION" -Drunner.build.dir="$OUT/build" \
    -DoutputDirectory="$OUT/lib" package dependency:copy-dependencies >"$OUT/build.log" 2>&1 \
    || { tail -40 "$OUT/build.log" >&2; return 1; }
  mv "$OUT/build/graphhopper-runner.jar" "$OUT/lib/"
  rm -rf "$OUT/build"
  cat >"$OUT/graphhopper" <<'LAUNCHER'
#!/usr/bin/env bash
# GraphHopper peer runner: graphhopper <extract.osm.pbf> <graph-cache-dir>
# (JSON lines on stdin and stdout)
set -euo pipefail
if ! command -v java >/dev/null; then
  echo 'graphhopper: java is not installed (Java 17 or newer is needed)' >&2
  exit 127
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2086 # GRAPHHOPPER_JAVA_OPTS is a list of JVM options
exec java ${GRAPHHOPPER_JAVA_OPTS:--Xmx1g -XX:+UseSerialGC} \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$here/lib/*" platform.navigation.peer.GraphHopperRunner "$@"
LAUNCHER
  chmod +x "$OUT/graphhopper"
}

install_promtool() {
  if command -v promtool >/dev/null && command -v prometheus >/dev/null; then return 0; fi
  log "apt-get install prometheus (promtool and the prometheus server)"
  [[ $(id -u) == 0 ]] || die "installing Debian's prometheus package needs root"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  # The package starts a system Prometheus on :9090 where an init system runs; tests start their own.
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
}

install_one() {
  case $1 in
    promtool) install_promtool ;;
    helm) build helm build_helm ;;
    k6 | tiltfile-check | etcd | vtexplain) build "$1" build_module "$ROOT/infra/kube/$1" "$1" ;;
    kube-apiserver) build kube-apiserver build_module "$ROOT/infra/kube/apiserver" kube-apiserver ;;
    graphhopper) build graphhopper build_graphhopper ;;
    *) die "unknown tool $1 (${ALL_TOOLS[*]})" ;;
  esac
}

cmd_install() {
  local started=$SECONDS tool
  local tools=("$@")
  ((${#tools[@]})) || tools=("${ALL_TOOLS[@]}")
  for tool in "${tools[@]}"; do install_one "$tool"; done
  log "tools ready in $((SECONDS - started))s"
}

cmd_env() {
  local path="" tool dir
  for tool in helm k6 kube-apiserver etcd tiltfile-check vtexplain graphhopper; do
    dir=$(dir_of "$tool")
    [[ -x $dir/$tool ]] || die "$tool is not built; run: scripts/tools.sh install"
    path="$dir:$path"
    printf 'export %s=%q\n' "$(tr 'a-z-' 'A-Z_' <<<"$tool")_BIN" "$dir/$tool"
  done
  printf 'export PROMTOOL_BIN=%q PROMETHEUS_BIN=%q\n' "$(command -v promtool)" "$(command -v prometheus)"
  printf 'export PATH=%q"$PATH"\n' "$path"
}

cmd_status() {
  local tool dir
  for tool in helm k6 kube-apiserver etcd tiltfile-check vtexplain graphhopper; do
    dir=$(dir_of "$tool")
    if [[ -x $dir/$tool ]]; then echo "$tool: $dir/$tool"; else echo "$tool: not built"; fi
  done
  echo "promtool: $(command -v promtool || echo 'not installed')"
}

case ${1:-} in
  install) shift; cmd_install "$@" ;;
  env) cmd_env ;;
  status) cmd_status ;;
  *) die "usage: scripts/tools.sh install [tool...]|env|status" ;;
esac
