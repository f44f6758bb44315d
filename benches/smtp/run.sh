#!/usr/bin/env bash
# The SMTP load benchmark of issue 4: mukaika serve and a bare Postfix,
# side by side, each relaying to Postfix's smtp-sink on loopback.
#
#   benches/smtp/run.sh            (as root; a few minutes)
#
# Loads: (1) 10 KB plain-text mails (smtp-source -l 10240), (2) 100 KB HTML
# mails (smtp-source -F, the HTML mail of benches/corpus made by bench.py).
# Each: MESSAGES mails over SESSIONS concurrent sessions, one session per
# mail (smtp-source's default), REPEAT times, the two systems interleaved.
#
# Per run: messages/s from smtp-source's start to the sink counting the
# last message (smtp-sink -c, no dump files); p50/p99 accept-to-deliver
# latency (mukaika: JSON log "received" -> "delivered" per queue_id;
# Postfix: delay= of status=sent); peak memory (VmHWM; Postfix: summed over
# master and its children alive at the end) and the peak of the summed
# VmRSS sampled every 0.2 s; machine CPU busy and iowait over the run.
#
# Environment: MESSAGES (2000), SESSIONS (20), REPEAT (2), LOADS ("text html"),
# SYSTEMS ("postfix mukaika"); mukaika config knobs, each unset = its
# default: WORKERS ([pipeline] workers, default one per core),
# RELAY_MAX_CONNECTIONS ([relay] max_connections, 20),
# MAX_CONNECTIONS_PER_IP ([ingress] max_connections_per_ip, 50),
# SPOOL_FSYNC ([spool] fsync, true); SCAN=1 (mukaika scans every mail with
# a private clamd started here on the project's test signatures, with
# SCAN_CONCURRENCY ([scanner] concurrency, 4) scans at once);
# AUTH_NS=IP:PORT (mukaika verifies every mail's sender, [auth] mode =
# "annotate", against that DNS server; docs/PERFORMANCE.md has the zone),
# PROFILE=1 (one extra mukaika run per load under perf record, not in the
# table), OUT (result directory; default /tmp/mukaika-smtp-bench.XXXX),
# NO_BUILD=1 (use target/release/mukaika as it is), KEEP=1 (keep each run's
# spool, quarantine and Postfix queue; by default only logs and results stay).
#
# Traffic goes to 127.0.0.1 only. Every wait has a time limit. Everything
# started here is stopped by its PID on exit.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
MESSAGES=${MESSAGES:-2000}
SESSIONS=${SESSIONS:-20}
REPEAT=${REPEAT:-2}
LOADS=${LOADS:-"text html"}
SYSTEMS=${SYSTEMS:-"postfix mukaika"}
RUN_TIMEOUT=${RUN_TIMEOUT:-180}  # seconds for one run's mail to reach the sink
QUIET_WAIT=${QUIET_WAIT:-120}    # seconds to wait for the machine to be idle
OUT=${OUT:-$(mktemp -d /tmp/mukaika-smtp-bench.XXXX)}
# mktemp makes it 0700: Postfix's own user must reach its queue below it.
chmod 755 "$OUT"
mkdir -p "$OUT"
py() { python3 "$here/bench.py" "$@"; }
log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (a private Postfix instance needs it)"
for t in smtp-source smtp-sink postfix python3 cargo; do
    command -v "$t" >/dev/null || die "$t is not installed (apt-get install postfix python3)"
done

# --- cleanup: every process started here, by PID -------------------------
pids=()
postfix_masters=()
cleanup() {
    local p
    for p in "${pids[@]}" "${postfix_masters[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}" "${postfix_masters[@]}"; do
        timeout 10 tail --pid="$p" -f /dev/null 2>/dev/null || kill -9 "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT
forget() { # PID: ended; cleanup must not signal its number again
    local p keep=() keep_m=()
    for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    for p in "${postfix_masters[@]}"; do [ "$p" = "$1" ] || keep_m+=("$p"); done
    pids=("${keep[@]}")
    postfix_masters=("${keep_m[@]}")
}
stop() { # PID: SIGTERM, wait up to 15 s, then SIGKILL
    kill "$1" 2>/dev/null || true
    timeout 15 tail --pid="$1" -f /dev/null 2>/dev/null || kill -9 "$1" 2>/dev/null || true
    forget "$1"
}
wait_port() { # PORT PID WHAT
    local deadline=$((SECONDS + 20))
    until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        kill -0 "$2" 2>/dev/null || die "$3 exited before listening on $1"
        [ $SECONDS -lt $deadline ] || die "$3 did not listen on $1 within 20 s"
        sleep 0.05
    done
}

# --- the machine must be idle: other people run test suites here ----------
busy_pct() { # machine CPU busy over 2 s, in % of all cores
    local a b
    read -r -a a < <(py cpu)
    sleep 2
    read -r -a b < <(py cpu)
    echo $(((b[0] - a[0]) * 100 / (b[2] - a[2] + 1)))
}
foreign() { # build/test processes of others
    local d c seen=""
    for d in /proc/[0-9]*; do
        c=$(cat "$d/comm" 2>/dev/null) || continue
        case $c in cargo | rustc | cc1 | cc1plus | ld | clippy-driver | rustdoc | rustfmt) seen="$seen $c" ;; esac
    done
    echo "$seen"
}
busy_before="" # set when a run had to start on a busy machine
wait_quiet() {
    local deadline=$((SECONDS + QUIET_WAIT)) b f
    busy_before=""
    while :; do
        b=$(busy_pct)
        f=$(foreign)
        if [ "$b" -le 15 ] && [ -z "$f" ]; then
            return 0
        fi
        if [ $SECONDS -ge $deadline ]; then
            log "warning: machine still busy (${b}% CPU;${f:- no build}); measuring anyway, the run is marked"
            busy_before="NOISY: ${b}% CPU busy before the run;${f:- no build}"
            return 0
        fi
        log "machine busy (${b}% CPU;${f:- no build}): waiting"
        sleep 5
    done
}

# --- build, inputs --------------------------------------------------------
mkdir -p "$OUT/bin"
if [ -z "${NO_BUILD:-}" ]; then
    log "cargo build --release --locked"
    (cd "$repo" && cargo build --release --locked)
fi
# A copy: others may rebuild target/ while this runs.
cp "$repo/target/release/mukaika" "$OUT/bin/mukaika"
py html-mail "$OUT/html.eml"
[ -z "${PROFILE:-}" ] || command -v perf >/dev/null || die "PROFILE=1 needs perf (apt-get install linux-perf)"
FROM=sender@example.com
RCPT=user@lgwan.example.jp
load_args() { # LOAD -> smtp-source arguments for the body
    case $1 in
        text) echo "-l 10240" ;;
        html) echo "-F $OUT/html.eml" ;;
        *) die "unknown load $1" ;;
    esac
}

# --- one side: a sink, the system under test, smtp-source -----------------
start_sink() { # DIR -> sets sink_port, sink_pid
    sink_port=$(py free-port)
    smtp-sink -u root -c "127.0.0.1:$sink_port" 256 >"$1/sink.out" 2>"$1/sink.err" &
    sink_pid=$!
    pids+=("$sink_pid")
    wait_port "$sink_port" "$sink_pid" smtp-sink
}

# A private clamd for SCAN=1: the project's signatures, on a unix socket.
start_clamd() {
    local dir="$OUT/clamd" i
    mkdir -p "$dir/db"
    cp "$repo"/crates/scan/tests/signatures/* "$dir/db/"
    printf 'Foreground yes\nDatabaseDirectory %s/db\nLocalSocket %s/clamd.sock\nPidFile %s/clamd.pid\nLogFile %s/clamd.log\nTemporaryDirectory %s\n' \
        "$dir" "$dir" "$dir" "$dir" "$dir" >"$dir/clamd.conf"
    /usr/sbin/clamd --config-file="$dir/clamd.conf" >/dev/null 2>&1 &
    clamd_pid=$!
    pids+=("$clamd_pid")
    for i in $(seq 300); do
        [ -S "$dir/clamd.sock" ] && return
        sleep 0.1
    done
    die "clamd did not start (see $dir/clamd.log)"
}

start_mukaika() { # DIR -> sets port, sut_pids
    local dir=$1
    port=$(py free-port)
    {
        if [ "${SCAN:-}" = 1 ]; then
            echo "[scanner]"
            echo "clamd = \"unix:$OUT/clamd/clamd.sock\""
            [ -z "${SCAN_CONCURRENCY:-}" ] || echo "concurrency = $SCAN_CONCURRENCY"
        fi
        if [ -n "${AUTH_NS:-}" ]; then
            echo "[auth]"
            echo "mode = \"annotate\""
            echo "nameservers = [\"$AUTH_NS\"]"
        fi
        echo "[ingress]"
        echo "listen = \"127.0.0.1:$port\""
        echo "accept_domains = [\"lgwan.example.jp\"]"
        [ -z "${MAX_CONNECTIONS_PER_IP:-}" ] || echo "max_connections_per_ip = $MAX_CONNECTIONS_PER_IP"
        echo "[relay]"
        echo "next_hop = \"smtp://127.0.0.1:$sink_port\""
        echo "tls = \"none\""
        [ -z "${RELAY_MAX_CONNECTIONS:-}" ] || echo "max_connections = $RELAY_MAX_CONNECTIONS"
        echo "[spool]"
        echo "dir = \"$dir/spool\""
        [ -z "${SPOOL_FSYNC:-}" ] || echo "fsync = $SPOOL_FSYNC"
        echo "[quarantine]"
        echo "dir = \"$dir/quarantine\""
        echo "[pipeline]"
        [ -z "${WORKERS:-}" ] || echo "workers = $WORKERS"
        echo "[log]"
        echo "format = \"json\""
        # The console only when a run asks for it (ADMIN_LISTEN=IP:PORT).
        echo "[admin]"
        echo "listen = \"${ADMIN_LISTEN:-off}\""
        echo "users_file = \"$dir/admin/users.json\""
        echo "secret_file = \"$dir/admin/secret\""
        echo "audit_log = \"$dir/admin/audit.log\""
    } >"$dir/mukaika.toml"
    "$OUT/bin/mukaika" check-config --config "$dir/mukaika.toml" >&2
    "$OUT/bin/mukaika" serve --config "$dir/mukaika.toml" >"$dir/serve.log" 2>&1 &
    pids+=("$!")
    # With SCAN=1, clamd's CPU and memory are part of what mukaika costs.
    sut_pids=("$!" ${clamd_pid:+"$clamd_pid"})
    wait_port "$port" "$!" "mukaika serve"
}

start_postfix() { # DIR -> sets port, sut_pids (the master)
    local dir=$1 pid
    port=$(py free-port)
    mkdir -p "$dir/etc" "$dir/queue" "$dir/data" "$dir/log"
    chown postfix "$dir/data"
    cat >"$dir/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = relay.localdomain
inet_interfaces = loopback-only
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$sink_port
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
maillog_file = $dir/log/maillog
maillog_file_prefixes = $dir
EOF
    cat >"$dir/etc/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    postfix -c "$dir/etc" check >&2
    postfix -c "$dir/etc" start >&2
    local deadline=$((SECONDS + 20))
    until [ -s "$dir/queue/pid/master.pid" ]; do
        [ $SECONDS -lt $deadline ] || die "postfix did not start (see $dir/log/maillog)"
        sleep 0.05
    done
    pid=$(tr -d ' \n' <"$dir/queue/pid/master.pid")
    sut_pids=("$pid")
    postfix_masters+=("$pid")
    wait_port "$port" "$pid" postfix
}

RESULTS=$OUT/results.tsv
printf 'system\tload\trep\tmsgs\tmsgs_per_s\twall_s\taccept_s\tlatency\thwm_kb\tprocs\tpss_kb\tpeak_rss_kb\tcpu_busy_pct\tiowait_pct\tsut_cpu_pct\tnote\n' >"$RESULTS"

run_one() { # SYSTEM LOAD REP [profile]
    local system=$1 load=$2 rep=$3 profile=${4:-}
    local dir="$OUT/$system-$load-$rep${profile:+-profile}"
    mkdir -p "$dir"
    wait_quiet
    start_sink "$dir"
    "start_$system" "$dir"
    sleep 1 # let it settle (Postfix's master, mukaika's spool recovery)

    python3 "$here/bench.py" sample "$dir/sample.txt" "${sut_pids[@]}" &
    local sampler=$!
    pids+=("$sampler")
    local perf_pid=""
    if [ -n "$profile" ]; then
        perf record -F 999 -p "${sut_pids[0]}" -o "$dir/perf.data" 2>"$dir/perf.err" &
        perf_pid=$!
        pids+=("$perf_pid")
        sleep 0.5
    fi

    local cpu0 cpu1 t0 t_accept t_end src_rc=0 end_rc=0
    read -r -a cpu0 < <(py cpu)
    t0=$(date +%s.%N)
    # shellcheck disable=SC2046 # load_args is meant to split
    (
        rc=0
        timeout "$RUN_TIMEOUT" smtp-source -s "$SESSIONS" -m "$MESSAGES" $(load_args "$load") \
            -f "$FROM" -t "$RCPT" -M bench.example.com "127.0.0.1:$port" \
            >"$dir/source.out" 2>&1 || rc=$?
        date +%s.%N >"$dir/source.end"
        exit "$rc"
    ) &
    local source_pid=$!
    pids+=("$source_pid")
    t_end=$(py wait-sink "$dir/sink.out" "$MESSAGES" "$RUN_TIMEOUT") || { end_rc=$?; t_end=$(date +%s.%N); }
    read -r -a cpu1 < <(py cpu)
    wait "$source_pid" || src_rc=$?
    forget "$source_pid"
    t_accept=$(cat "$dir/source.end")
    [ "$end_rc" = 0 ] || log "warning: $system $load: not every message reached the sink in ${RUN_TIMEOUT} s"
    [ "$src_rc" = 0 ] || log "warning: smtp-source exited with $src_rc: $(tail -c 300 "$dir/source.out")"

    # Peak memory at the end, before anything exits.
    local hwm nprocs pss sut_cpu=""
    read -r hwm nprocs pss < <(py hwm "${sut_pids[@]}")
    if [ "$system" = mukaika ]; then
        local ticks
        ticks=$(awk '{print $14 + $15}' "/proc/${sut_pids[0]}/stat")
        sut_cpu=$(python3 -c "print(round($ticks / $(getconf CLK_TCK) / ($t_end - $t0) * 100))")
    fi
    [ -z "$perf_pid" ] || { kill -INT "$perf_pid"; timeout 30 tail --pid="$perf_pid" -f /dev/null || true; forget "$perf_pid"; }
    stop "$sampler"

    # The log lines of the last deliveries follow the sink's count.
    local latency
    if [ "$system" = mukaika ]; then
        py wait-lines "$dir/serve.log" '"stage":"delivered"' "$MESSAGES" 30 || true
        latency=$(py latency-mukaika "$dir/serve.log")
    else
        py wait-lines "$dir/log/maillog" 'status=sent' "$MESSAGES" 30 || true
        latency=$(py latency-postfix "$dir/log/maillog")
    fi
    stop "${sut_pids[0]}"
    stop "$sink_pid"
    # The mails themselves (hundreds of MB per run) go unless KEEP=1.
    [ -n "${KEEP:-}" ] || rm -rf "$dir/spool" "$dir/quarantine" "$dir/queue"

    local wall mps busy iowait peak foreign_seen note=$busy_before
    wall=$(python3 -c "print(f'{$t_end - $t0:.2f}')")
    mps=$(python3 -c "print(round($MESSAGES / ($t_end - $t0)))")
    busy=$(((cpu1[0] - cpu0[0]) * 100 / (cpu1[2] - cpu0[2] + 1)))
    iowait=$(((cpu1[1] - cpu0[1]) * 100 / (cpu1[2] - cpu0[2] + 1)))
    peak=$(sed -n "s/^peak_rss_kb=//p" "$dir/sample.txt" 2>/dev/null) || peak=0
    foreign_seen=$(sed -n "s/^foreign=//p" "$dir/sample.txt" 2>/dev/null) || foreign_seen=""
    [ -z "$foreign_seen" ] || note="$note NOISY: $foreign_seen ran during the run"
    [ "$end_rc" = 0 ] || note="$note INCOMPLETE"
    [ "$src_rc" = 0 ] || note="$note smtp-source rc=$src_rc"
    [ -z "$profile" ] || note="$note profiled (perf record)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$system" "$load" "$rep" "$MESSAGES" "$mps" "$wall" \
        "$(python3 -c "print(f'{$t_accept - $t0:.2f}')")" "$latency" "$hwm" "$nprocs" "$pss" "$peak" \
        "$busy" "$iowait" "$sut_cpu" "$note" | tee -a "$RESULTS" >&2
    if [ -n "$profile" ]; then
        perf report -i "$dir/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
            grep -v '^$' | head -80 >"$dir/perf-top.txt" || true
        log "profile: $dir/perf-top.txt"
    fi
}

log "results in $OUT; machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
clamd_pid=""
if [ "${SCAN:-}" = 1 ]; then
    start_clamd
    log "mukaika scans with clamd (pid $clamd_pid)"
fi
for rep in $(seq 1 "$REPEAT"); do
    for load in $LOADS; do
        for system in $SYSTEMS; do
            log "run $rep: $system, $load, $MESSAGES mails, $SESSIONS sessions"
            run_one "$system" "$load" "$rep"
        done
    done
done
if [ -n "${PROFILE:-}" ]; then
    for load in $LOADS; do
        log "profile run: mukaika, $load"
        run_one mukaika "$load" 1 profile
    done
fi

# --- summary: per system and load, the median msgs/s ---------------------
# (latency and memory from the run closest to the median)
python3 "$here/bench.py" summary "$RESULTS"
log "raw results: $RESULTS"
