#!/usr/bin/env bash
# A single-node SLURM cluster on localhost, for trying the slurm profile and for CI.
#
#   scripts/local_slurm.sh start [--gpus N] [--no-accounting]
#                                 install (apt) and start munge, MariaDB, slurmdbd,
#                                 slurmctld and slurmd
#   scripts/local_slurm.sh stop   stop the daemons this script started
#   scripts/local_slurm.sh status exit 0 when the cluster answers (says whether
#                                 the accounting database does too)
#
# Idempotent: `start` on a running cluster does nothing (one started without
# accounting, by --no-accounting or an older version of this script, gets it
# when no job is queued). Needs root and Debian's slurm-wlm + munge packages, and
# slurmdbd + mariadb-server for accounting (installed from apt when missing).
# Accounting is what a real cluster has: `sacct` lists the jobs, and the slurm
# executor plugin polls job states with it. Where MariaDB or slurmdbd cannot be
# installed or started, `start` says why and runs without accounting (then query
# jobs with `squeue -t all`, which keeps finished jobs for MinJobAge seconds).
# MariaDB gets its own data folder and port (127.0.0.1:$DB_PORT); it does not
# touch a site's own database. Not for a real cluster: one node, one user.
# --gpus N declares N fake GPUs (gres on empty files) so `--gpus=1` requests are
# accepted on a machine without any; jobs still run on the CPU.
set -euo pipefail

CONF_DIR=/etc/slurm
STATE_DIR=/var/lib/slurm-local
LOG_DIR=/var/log/slurm-local
PARTITION=${LOCAL_SLURM_PARTITION:-debug}
CLUSTER=local
MARK='# written by scripts/local_slurm.sh'
DB_DIR=$STATE_DIR/mysql
DB_RUN=$STATE_DIR/mysqld
DB_CNF=$STATE_DIR/mariadb.cnf
DB_PORT=${LOCAL_SLURM_DB_PORT:-3307}
DB_NAME=slurm_acct_db
DBD_CONF=$CONF_DIR/slurmdbd.conf
DBD_PORT=6819
WAIT_S=60   # the longest any one daemon may take to answer

die() { say "$*"; exit 1; }
say() { echo "local_slurm: $*" >&2; }

# a daemon is running when its pid file names a live, non-zombie process
alive() {
    local pid
    [[ -s $1 ]] && pid=$(cat "$1" 2>/dev/null) && [[ -d /proc/$pid ]] || return 1
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]
}

# wait_for SECONDS COMMAND...: poll COMMAND every half second until it succeeds;
# fail after SECONDS
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

gone() { ! alive "$1"; }

answers() {
    command -v sinfo >/dev/null || return 1
    # our cluster with its slurmctld down: spare sinfo's ~9 s of retries
    if ours "$CONF_DIR/slurm.conf" && ! alive "$STATE_DIR/slurmctld.pid"; then return 1; fi
    timeout 10 sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'
}

# slurmdbd answers and knows this cluster (what sacct and the plugin need)
accounting_answers() {
    command -v sacctmgr >/dev/null \
        && timeout 10 sacctmgr -n -P show cluster "$CLUSTER" format=cluster 2>/dev/null | grep -qx "$CLUSTER"
}

# ours: a file this script wrote (or none yet); anything else is the site's
ours() { [[ ! -e $1 ]] || grep -q "^$MARK" "$1"; }

apt_install() {
    command -v apt-get >/dev/null || return 1
    export DEBIAN_FRONTEND=noninteractive
    say "installing $* from apt"
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 && return
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install_packages() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && return
    command -v apt-get >/dev/null || die "slurm-wlm and munge are not installed and apt-get is not available; install them by hand"
    apt_install slurm-wlm munge || die "could not install slurm-wlm and munge from apt (no network, or no such packages here)"
}

install_accounting_packages() {
    command -v slurmdbd >/dev/null && command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null && return
    apt_install slurmdbd mariadb-server
}

write_config() {
    local gpus=$1 accounting=$2 host node
    host=$(hostname -s)
    # the node's real hardware, as slurmd sees it (CPUs, sockets, RealMemory)
    node=$(slurmd -C | head -1)
    [[ $node == NodeName=* ]] || die "slurmd -C did not describe this node: $node"
    mkdir -p "$CONF_DIR" "$STATE_DIR/ctld" "$STATE_DIR/d" "$LOG_DIR"
    local gres_line="" node_gres="" tres_line=""
    if (( gpus > 0 )); then
        gres_line="GresTypes=gpu"
        node_gres="Gres=gpu:$gpus"
        tres_line="AccountingStorageTRES=gres/gpu"
        # a bare Count= marks the node invalid: each fake GPU needs its own file
        : > "$CONF_DIR/gres.conf"
        for ((i = 0; i < gpus; i++)); do
            touch "$STATE_DIR/fake-gpu$i"
            echo "NodeName=$host Name=gpu File=$STATE_DIR/fake-gpu$i" >> "$CONF_DIR/gres.conf"
        done
    else
        rm -f "$CONF_DIR/gres.conf"
    fi
    local storage="AccountingStorageType=accounting_storage/none"
    if [[ $accounting == yes ]]; then
        storage="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$DBD_PORT
$tres_line"
    fi
    local mem cpus
    mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
    cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node")
    cat > "$CONF_DIR/slurm.conf" <<CONF
$MARK: one node on localhost
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/d
SlurmctldPidFile=$STATE_DIR/slurmctld.pid
SlurmdPidFile=$STATE_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
# no cgroups in a container
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# each job gets only what it asks for, not the whole node
DefMemPerCPU=$(( mem / cpus ))
# finished jobs stay visible to squeue and scontrol for an hour (also without accounting)
MinJobAge=3600
SchedulerParameters=defer_batch=0
SchedulerTimeSlice=5
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
$storage
$gres_line

$node $node_gres State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    sed -i '/^$/d' "$CONF_DIR/slurm.conf"
}

start_munge() {
    alive /run/munge/munged.pid && return
    [[ -s /etc/munge/munge.key ]] || { mkdir -p /etc/munge; dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; }
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
    chmod 0400 /etc/munge/munge.key
    runuser -u munge -- munged || munged --force
}

db() { mariadb --defaults-file="$DB_CNF" -u root "$@"; }
db_answers() { mariadb-admin --defaults-file="$DB_CNF" -u root ping >/dev/null 2>&1; }
db_up_or_gone() { db_answers || ! kill -0 "$1" 2>/dev/null; }

# MariaDB in its own folder, on 127.0.0.1:$DB_PORT, as a plain background daemon
# (no systemd here); the slurm database, its user and slurmdbd.conf
start_database() {
    ours "$DBD_CONF" || { say "$DBD_CONF exists and was not written by this script; not touching it"; return 1; }
    mkdir -p "$DB_DIR" "$DB_RUN" "$LOG_DIR"
    cat > "$DB_CNF" <<CNF
$MARK: MariaDB for the local SLURM's accounting
[mysqld]
user=mysql
datadir=$DB_DIR
socket=$DB_RUN/mysqld.sock
pid-file=$DB_RUN/mysqld.pid
log-error=$LOG_DIR/mariadb.log
bind-address=127.0.0.1
port=$DB_PORT
skip-name-resolve
# one small cluster's jobs: little memory; slurmdbd's recommended lock wait
innodb_buffer_pool_size=64M
innodb_lock_wait_timeout=900
[client]
socket=$DB_RUN/mysqld.sock
CNF
    chown mysql:mysql "$DB_DIR" "$DB_RUN"
    if [[ ! -d $DB_DIR/mysql ]]; then
        mariadb-install-db --defaults-file="$DB_CNF" --auth-root-authentication-method=socket --skip-test-db \
            >>"$LOG_DIR/mariadb.log" 2>&1 || { say "mariadb-install-db failed; see $LOG_DIR/mariadb.log"; return 1; }
    fi
    if ! alive "$DB_RUN/mysqld.pid"; then
        setsid mariadbd --defaults-file="$DB_CNF" </dev/null >>"$LOG_DIR/mariadb.log" 2>&1 &
        # give up at once if it exits (a port in use, a bad data folder)
        wait_for "$WAIT_S" db_up_or_gone $! || true
    fi
    db_answers || { say "MariaDB does not answer (it exited, or took over $WAIT_S s); see $LOG_DIR/mariadb.log"; return 1; }
    # the password slurmdbd already has, else a new one
    local pass
    pass=$(sed -n 's/^StoragePass=//p' "$DBD_CONF" 2>/dev/null)
    [[ -n $pass ]] || pass=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    db -e "CREATE DATABASE IF NOT EXISTS $DB_NAME;
           CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1';
           ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
           GRANT ALL ON $DB_NAME.* TO 'slurm'@'127.0.0.1';" \
        || { say "could not create the slurm database user"; return 1; }
    # slurmdbd refuses a config anyone but its SlurmUser (root) can read
    ( umask 077; cat > "$DBD_CONF" <<CONF
$MARK: accounting for the local SLURM
AuthType=auth/munge
DbdHost=localhost
DbdPort=$DBD_PORT
SlurmUser=root
PidFile=$STATE_DIR/slurmdbd.pid
LogFile=$LOG_DIR/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$pass
StorageLoc=$DB_NAME
CONF
    )
    chown root:root "$DBD_CONF"
    chmod 600 "$DBD_CONF"
}

# slurmdbd, then this cluster registered in it; needs munge and slurm.conf
start_slurmdbd() {
    alive "$STATE_DIR/slurmdbd.pid" || slurmdbd || { say "slurmdbd did not start; see $LOG_DIR/slurmdbd.log"; return 1; }
    wait_for "$WAIT_S" timeout 10 sacctmgr -n show cluster >/dev/null 2>&1 \
        || { say "slurmdbd did not answer within $WAIT_S s; see $LOG_DIR/slurmdbd.log"; return 1; }
    accounting_answers || timeout 30 sacctmgr -i add cluster "$CLUSTER" >/dev/null \
        || { say "sacctmgr could not add cluster $CLUSTER"; return 1; }
}

# kill a daemon by its pid file and wait (bounded) until it is gone, so that a
# start right after does not find it still shutting down
stop_daemon() {
    alive "$1" || return 0
    kill "$(cat "$1")" 2>/dev/null || true
    wait_for 30 gone "$1" || say "$(basename "$1" .pid) did not stop within 30 s"
}

start() {
    local gpus=1 accounting=yes
    while (( $# )); do
        case $1 in
            --gpus) gpus=${2:?--gpus needs a number}; shift 2 ;;
            --no-accounting) accounting=no; shift ;;
            *) die "unknown option '$1'; valid: --gpus N, --no-accounting" ;;
        esac
    done
    if answers; then
        if [[ $accounting == no ]] || accounting_answers; then say "already running"; return 0; fi
        # started without accounting: restart it with, unless jobs would be disturbed
        if [[ $(id -u) != 0 ]] || ! ours "$CONF_DIR/slurm.conf" || [[ -n $(squeue -h -o %i 2>/dev/null) ]]; then
            say "already running, without accounting (sacct does not work); stop it with '$0 stop' and start it again to add accounting"
            return 0
        fi
        say "running without accounting: restarting slurmctld and slurmd with it"
        stop_daemon "$STATE_DIR/slurmd.pid"
        stop_daemon "$STATE_DIR/slurmctld.pid"
    fi
    [[ $(id -u) == 0 ]] || die "must run as root (it installs packages and starts daemons); try: sudo $0 start"
    # never overwrite a site's own configuration
    ours "$CONF_DIR/slurm.conf" || die "$CONF_DIR/slurm.conf exists and was not written by this script; not touching it"
    install_packages
    if [[ $accounting == yes ]] && ! install_accounting_packages; then
        say "could not install slurmdbd and mariadb-server from apt: starting without accounting (sacct will not work)"
        accounting=no
    fi
    start_munge
    if [[ $accounting == yes ]] && ! start_database; then
        say "no accounting database: starting without accounting (sacct will not work)"
        accounting=no
    fi
    write_config "$gpus" "$accounting"
    if [[ $accounting == yes ]] && ! start_slurmdbd; then
        say "starting without accounting (sacct will not work)"
        accounting=no
        write_config "$gpus" "$accounting"
    fi
    alive "$STATE_DIR/slurmctld.pid" || slurmctld
    alive "$STATE_DIR/slurmd.pid" || slurmd
    if ! wait_for 30 answers; then
        scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
        answers || die "the daemons started but the node is not up; see $LOG_DIR/slurmctld.log and $LOG_DIR/slurmd.log"
    fi
    say "running (partition $PARTITION, accounting: $accounting)"
}

stop() {
    local pidfile
    for pidfile in "$STATE_DIR/slurmd.pid" "$STATE_DIR/slurmctld.pid" "$STATE_DIR/slurmdbd.pid" "$DB_RUN/mysqld.pid" \
                   /run/munge/munged.pid; do
        stop_daemon "$pidfile"
    done
    say "stopped"
}

status() {
    answers || { say "not running"; return 1; }
    if accounting_answers; then say "running, with accounting"; else say "running, without accounting"; fi
}

case ${1:-} in
    start) shift; start "$@" ;;
    stop) stop ;;
    status) status ;;
    *) die "usage: $0 start [--gpus N] [--no-accounting] | stop | status" ;;
esac
