#!/usr/bin/env bash
# A local Neo4j 5.26 community server with Graph Data Science, for fashiongraph's neo4j engine.
#
#   neo4j/neo4j.sh install   resolve the jars with Maven (neo4j/pom.xml) and lay out the home
#   neo4j/neo4j.sh start     install if needed, configure, start, wait until Bolt answers
#   neo4j/neo4j.sh stop      stop the server started here (clean shutdown, then wait)
#   neo4j/neo4j.sh status    say whether it runs; exit 0 if it does, 3 if not
#   neo4j/neo4j.sh admin ... run `neo4j-admin ...` against this home (e.g. database import full)
#   neo4j/neo4j.sh reset     stop and delete the database files (keeps the jars)
#   neo4j/neo4j.sh env       print the connection settings as shell assignments
#
# Every command is idempotent: `start` on a running server and `stop` on a stopped one succeed.
# The server listens on 127.0.0.1 only. Settings (environment):
#   FASHIONGRAPH_NEO4J_PORT   Bolt port (default 7697, away from Neo4j's usual 7687)
#   NEO4J_PASSWORD            password of user neo4j (default "fashiongraph"; at least 8 chars);
#                             applied when the database is first created (`reset` to change it)
#   FASHIONGRAPH_NEO4J_HEAP   JVM heap, e.g. 4g (default 2g); page cache: ..._PAGECACHE (256m)
#   FASHIONGRAPH_NEO4J_HOME   where the server lives (default <repo>/.neo4j/server-<versions>)
#   FASHIONGRAPH_NEO4J_JAVA   a java binary (default: $JAVA_HOME/bin/java, `java`, or a JDK 17/21
#                             under /usr/lib/jvm)
#   FASHIONGRAPH_NEO4J_START_TIMEOUT  seconds to wait for Bolt (default 120)
#   CI                        "true": a missing Java is an error (exit 1) instead of a skip (exit 0)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
NEO4J_VERSION="$(sed -n 's:.*<neo4j.version>\(.*\)</neo4j.version>.*:\1:p' "$HERE/pom.xml")"
GDS_VERSION="$(sed -n 's:.*<gds.version>\(.*\)</gds.version>.*:\1:p' "$HERE/pom.xml")"
PORT="${FASHIONGRAPH_NEO4J_PORT:-7697}"
PASSWORD="${NEO4J_PASSWORD:-fashiongraph}"
HEAP="${FASHIONGRAPH_NEO4J_HEAP:-2g}"
PAGECACHE="${FASHIONGRAPH_NEO4J_PAGECACHE:-256m}"
HOME_DIR="${FASHIONGRAPH_NEO4J_HOME:-$ROOT/.neo4j/server-$NEO4J_VERSION-gds-$GDS_VERSION}"
START_TIMEOUT="${FASHIONGRAPH_NEO4J_START_TIMEOUT:-120}"
PID_FILE="$HOME_DIR/run/neo4j.pid"
LOG_FILE="$HOME_DIR/logs/console.log"

say() { echo "neo4j.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------- java
java_major() {  # print the major version of java binary $1 (empty if it does not run)
    "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1
}

find_java() {
    local candidates=()
    [[ -n "${FASHIONGRAPH_NEO4J_JAVA:-}" ]] && candidates+=("$FASHIONGRAPH_NEO4J_JAVA")
    [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME/bin/java")
    command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
    local jvm="${FASHIONGRAPH_JVM_DIR:-/usr/lib/jvm}"
    for d in "$jvm"/*17* "$jvm"/*21*; do
        [[ -x "$d/bin/java" ]] && candidates+=("$d/bin/java")
    done
    for j in "${candidates[@]}"; do
        case "$(java_major "$j")" in
            17|21) echo "$j"; return 0 ;;
        esac
    done
    return 1
}

require_java() {
    if JAVA="$(find_java)"; then
        return 0
    fi
    local msg="no Java 17 or 21 found (Neo4j $NEO4J_VERSION needs one): install a JDK 17"
    msg+=" (apt-get install openjdk-17-jdk-headless) or set FASHIONGRAPH_NEO4J_JAVA"
    if [[ "${CI:-}" == "true" ]]; then
        die "$msg"
    fi
    say "skipping: $msg; the Neo4j tests will be skipped"
    exit 0
}

# ------------------------------------------------------------------------------------- install
# Run Maven in folder $1 with the remaining arguments; its output goes to a log that is shown
# only when it fails.
maven() {
    local dir="$1"; shift
    local log="$HOME_DIR.partial/maven.log"
    if ( cd "$dir" && mvn -B -ntp "$@" ) >"$log" 2>&1; then
        return 0
    fi
    tail -n 40 "$log" >&2
    return 1
}

install() {
    if [[ -f "$HOME_DIR/.installed" ]]; then
        return 0
    fi
    command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed once to fetch Neo4j and GDS from Maven Central: apt-get install maven"
    say "fetching Neo4j $NEO4J_VERSION and GDS $GDS_VERSION with Maven into $HOME_DIR (once)"
    local stage="$HOME_DIR.partial"
    rm -rf "$stage"
    mkdir -p "$stage"/{lib,plugins,conf,data,logs,run,import,gds}
    maven "$HERE" -P server dependency:copy-dependencies -DoutputDirectory="$stage/lib" \
        -Dmdep.stripVersion=true -Dmdep.prependGroupId=true -DincludeScope=runtime \
        || die "Maven could not fetch Neo4j $NEO4J_VERSION (its log is above)"
    maven "$HERE" -P gds dependency:copy-dependencies -DoutputDirectory="$stage/gds" \
        -Dmdep.stripVersion=true -Dmdep.prependGroupId=true -DincludeScope=runtime \
        || die "Maven could not fetch GDS $GDS_VERSION (its log is above)"
    # The GDS plug-in is its jars minus the libraries the server already ships (the server's win).
    local n=0
    for jar in "$stage"/gds/*.jar; do
        if [[ ! -e "$stage/lib/$(basename "$jar")" ]]; then
            mv "$jar" "$stage/plugins/"
            n=$((n + 1))
        fi
    done
    rm -rf "$stage/gds"
    maven "$HERE/gds-extension" package \
        || die "Maven could not build neo4j/gds-extension (its log is above)"
    cp "$HERE/gds-extension/target/fashiongraph-gds-extension-1.jar" "$stage/plugins/"
    echo "neo4j=$NEO4J_VERSION gds=$GDS_VERSION" > "$stage/.installed"
    rm -rf "$HOME_DIR"
    mv "$stage" "$HOME_DIR"
    say "installed: $(ls "$HOME_DIR/lib" | wc -l) server jars, $n GDS plug-in jars + the GDS extension"
}

# ------------------------------------------------------------------------------------ configure
configure() {
    cat > "$HOME_DIR/conf/neo4j.conf" <<CONF
# Written by neo4j/neo4j.sh on every start; edit the script's settings, not this file.
server.default_listen_address=127.0.0.1
server.default_advertised_address=127.0.0.1
server.bolt.enabled=true
server.bolt.listen_address=127.0.0.1:$PORT
server.bolt.advertised_address=127.0.0.1:$PORT
server.http.enabled=false
server.https.enabled=false
server.memory.heap.initial_size=$HEAP
server.memory.heap.max_size=$HEAP
server.memory.pagecache.size=$PAGECACHE
dbms.memory.transaction.total.max=0
dbms.usage_report.enabled=false
dbms.security.procedures.unrestricted=gds.*
db.tx_log.rotation.retention_policy=1 files
server.directories.import=import
server.jvm.additional=-XX:+UseG1GC
server.jvm.additional=-XX:-OmitStackTraceInFastThrow
server.jvm.additional=-XX:+UnlockExperimentalVMOptions
server.jvm.additional=-XX:+TrustFinalNonStaticFields
server.jvm.additional=-XX:+DisableExplicitGC
server.jvm.additional=-Djdk.nio.maxCachedBufferSize=1024
server.jvm.additional=-Dio.netty.tryReflectionSetAccessible=true
server.jvm.additional=-Djdk.tls.ephemeralDHKeySize=2048
server.jvm.additional=-Djdk.tls.rejectClientInitiatedRenegotiation=true
server.jvm.additional=-XX:FlightRecorderOptions=stackdepth=256
server.jvm.additional=-XX:+UnlockDiagnosticVMOptions
server.jvm.additional=-XX:+DebugNonSafepoints
server.jvm.additional=--add-opens=java.base/java.nio=ALL-UNNAMED
server.jvm.additional=--add-opens=java.base/java.io=ALL-UNNAMED
server.jvm.additional=--add-opens=java.base/sun.nio.ch=ALL-UNNAMED
server.jvm.additional=--add-opens=java.base/java.lang=ALL-UNNAMED
server.jvm.additional=-Dlog4j2.disable.jmx=true
server.jvm.additional=-Dfile.encoding=UTF-8
CONF
}

# Run one of Neo4j's own launchers (the `neo4j` and `neo4j-admin` scripts of the tarball).
launcher() {
    local main="$1"; shift
    NEO4J_HOME="$HOME_DIR" NEO4J_CONF="$HOME_DIR/conf" JAVA_CMD="$JAVA" \
        "$JAVA" -cp "$HOME_DIR/lib/*" -Dbasedir="$HOME_DIR" "$main" "$@"
}

admin() { launcher org.neo4j.server.startup.Neo4jAdminCommand "$@"; }

# --------------------------------------------------------------------------------- run / stop
server_pid() {  # print the pid of a running server of this home, or fail
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(tr -dc '0-9' < "$PID_FILE")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

bolt_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

start() {
    require_java
    install
    configure
    if pid="$(server_pid)"; then
        if bolt_open; then
            say "already running (pid $pid) on bolt://127.0.0.1:$PORT"
            return 0
        fi
        die "a server of $HOME_DIR runs (pid $pid) but not on port $PORT: run \`$0 stop\` first"
    fi
    if bolt_open; then
        die "port $PORT is taken by another program: set FASHIONGRAPH_NEO4J_PORT to a free port"
    fi
    if [[ ! -d "$HOME_DIR/data/dbms" ]]; then
        (( ${#PASSWORD} >= 8 )) || die "NEO4J_PASSWORD must have at least 8 characters (got ${#PASSWORD})"
        admin dbms set-initial-password "$PASSWORD" >/dev/null
    fi
    say "starting Neo4j $NEO4J_VERSION + GDS $GDS_VERSION on bolt://127.0.0.1:$PORT (heap $HEAP, java $JAVA)"
    # The server runs in its own session so that it outlives this shell; logs go to $LOG_FILE.
    mkdir -p "$HOME_DIR/logs" "$HOME_DIR/run"
    local user_log="$HOME_DIR/logs/neo4j.log" started_before=0
    [[ -f "$user_log" ]] && started_before="$(grep -c '  Started\.$' "$user_log" || true)"
    NEO4J_HOME="$HOME_DIR" NEO4J_CONF="$HOME_DIR/conf" \
        setsid "$JAVA" -cp "$HOME_DIR/plugins/*:$HOME_DIR/lib/*" \
        -Xms"$HEAP" -Xmx"$HEAP" $(jvm_options) \
        org.neo4j.server.CommunityEntryPoint --home-dir="$HOME_DIR" --config-dir="$HOME_DIR/conf" \
        >"$LOG_FILE" 2>&1 < /dev/null &
    echo $! > "$PID_FILE"
    local waited=0
    until bolt_open && (( $(grep -c '  Started\.$' "$user_log" 2>/dev/null || true) > started_before )); do
        if ! server_pid >/dev/null; then
            tail -n 30 "$LOG_FILE" "$user_log" >&2 || true
            rm -f "$PID_FILE"
            die "Neo4j exited during start-up (log above; full logs in $HOME_DIR/logs)"
        fi
        if (( waited >= START_TIMEOUT )); then
            die "Neo4j did not answer on port $PORT within ${START_TIMEOUT}s (log: $LOG_FILE)"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    say "started (pid $(server_pid)) in ${waited}s: bolt://127.0.0.1:$PORT, user neo4j"
}

jvm_options() {  # the server.jvm.additional lines of neo4j.conf, one per word
    sed -n 's/^server\.jvm\.additional=//p' "$HOME_DIR/conf/neo4j.conf"
}

stop() {
    local pid
    if ! pid="$(server_pid)"; then
        rm -f "$PID_FILE"
        say "not running"
        return 0
    fi
    say "stopping pid $pid"
    kill -TERM "$pid"
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
        if (( waited >= 120 )); then
            die "pid $pid did not stop within 120s; look at $LOG_FILE (kill -9 $pid as a last resort)"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    rm -f "$PID_FILE"
    say "stopped in ${waited}s"
}

status() {
    local pid
    if pid="$(server_pid)" && bolt_open; then
        say "running (pid $pid) on bolt://127.0.0.1:$PORT, home $HOME_DIR"
        return 0
    fi
    say "not running (home $HOME_DIR, port $PORT)"
    return 3
}

reset() {
    stop
    rm -rf "$HOME_DIR/data" "$HOME_DIR/logs" "$HOME_DIR/import"
    mkdir -p "$HOME_DIR/data" "$HOME_DIR/logs" "$HOME_DIR/import"
    say "database files deleted; the next start creates them with NEO4J_PASSWORD"
}

case "${1:-}" in
    install) require_java; install ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    admin) shift; require_java; install; configure; admin "$@" ;;
    reset) reset ;;
    env)
        echo "FASHIONGRAPH_NEO4J_URI=bolt://127.0.0.1:$PORT"
        echo "NEO4J_USER=neo4j"
        echo "FASHIONGRAPH_NEO4J_HOME=$HOME_DIR"
        ;;
    *)
        sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
        exit 64
        ;;
esac
