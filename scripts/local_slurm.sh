#!/usr/bin/env bash
# A single-node SLURM cluster on localhost, for trying the slurm profile and for CI.
#
#   scripts/local_slurm.sh start [--gpus N]   install (apt) and start munge, slurmctld, slurmd
#   scripts/local_slurm.sh stop               stop the daemons this script started
#   scripts/local_slurm.sh status             exit 0 when the cluster answers
#
# Idempotent: `start` on a running cluster does nothing. Needs root and Debian's
# slurm-wlm + munge packages (installed from apt when missing). Not for a real
# cluster: one node, no accounting database (`sacct` does not work; query jobs
# with `squeue -t all`, which keeps finished jobs for MinJobAge seconds).
# --gpus N declares N fake GPUs (gres on /dev/null) so `--gpus=1` requests are
# accepted on a machine without any; jobs still run on the CPU.
set -euo pipefail

CONF_DIR=/etc/slurm
STATE_DIR=/var/lib/slurm-local
LOG_DIR=/var/log/slurm-local
PARTITION=${LOCAL_SLURM_PARTITION:-debug}

die() { echo "local_slurm: $*" >&2; exit 1; }

# a daemon is running when its pid file names a live, non-zombie process
alive() {
    local pid
    [[ -s $1 ]] && pid=$(cat "$1") && [[ -d /proc/$pid ]] || return 1
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]
}

answers() { command -v sinfo >/dev/null && timeout 10 sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; }

install_packages() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && return
    command -v apt-get >/dev/null || die "slurm-wlm and munge are not installed and apt-get is not available; install them by hand"
    echo "local_slurm: installing slurm-wlm and munge from apt" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null \
            || die "could not install slurm-wlm and munge from apt (no network, or no such packages here)"
    fi
}

write_config() {
    local gpus=$1 host node
    host=$(hostname -s)
    # the node's real hardware, as slurmd sees it (CPUs, sockets, RealMemory)
    node=$(slurmd -C | head -1)
    [[ $node == NodeName=* ]] || die "slurmd -C did not describe this node: $node"
    # never overwrite a site's own configuration
    if [[ -f $CONF_DIR/slurm.conf ]] && ! grep -q '^# written by scripts/local_slurm.sh' "$CONF_DIR/slurm.conf"; then
        die "$CONF_DIR/slurm.conf exists and was not written by this script; not touching it"
    fi
    mkdir -p "$CONF_DIR" "$STATE_DIR/ctld" "$STATE_DIR/d" "$LOG_DIR"
    local gres_line="" node_gres=""
    if (( gpus > 0 )); then
        gres_line="GresTypes=gpu"
        node_gres="Gres=gpu:$gpus"
        # a bare Count= marks the node invalid: each fake GPU needs its own file
        : > "$CONF_DIR/gres.conf"
        for ((i = 0; i < gpus; i++)); do
            touch "$STATE_DIR/fake-gpu$i"
            echo "NodeName=$host Name=gpu File=$STATE_DIR/fake-gpu$i" >> "$CONF_DIR/gres.conf"
        done
    else
        rm -f "$CONF_DIR/gres.conf"
    fi
    local mem cpus
    mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
    cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node")
    cat > "$CONF_DIR/slurm.conf" <<CONF
# written by scripts/local_slurm.sh: one node on localhost
ClusterName=local
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
# finished jobs stay visible to squeue (there is no accounting database for sacct)
MinJobAge=3600
SchedulerParameters=defer_batch=0
SchedulerTimeSlice=5
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
$gres_line

$node $node_gres State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    sed -i '/^$/d' "$CONF_DIR/slurm.conf"
}

start() {
    local gpus=1
    while (( $# )); do
        case $1 in
            --gpus) gpus=${2:?--gpus needs a number}; shift 2 ;;
            *) die "unknown option '$1'; valid: --gpus N" ;;
        esac
    done
    if answers; then echo "local_slurm: already running" >&2; return 0; fi
    [[ $(id -u) == 0 ]] || die "must run as root (it installs packages and starts daemons); try: sudo $0 start"
    install_packages
    write_config "$gpus"
    if ! alive /run/munge/munged.pid; then
        [[ -s /etc/munge/munge.key ]] || { mkdir -p /etc/munge; dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; }
        mkdir -p /run/munge /var/log/munge /var/lib/munge
        chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
        chmod 0400 /etc/munge/munge.key
        runuser -u munge -- munged || munged --force
    fi
    alive "$STATE_DIR/slurmctld.pid" || slurmctld
    alive "$STATE_DIR/slurmd.pid" || slurmd
    for _ in $(seq 60); do
        answers && { echo "local_slurm: running (partition $PARTITION)" >&2; return 0; }
        sleep 0.5
    done
    scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
    answers && return 0
    die "the daemons started but the node is not up; see $LOG_DIR/slurmctld.log and $LOG_DIR/slurmd.log"
}

stop() {
    local pidfile
    for pidfile in "$STATE_DIR/slurmd.pid" "$STATE_DIR/slurmctld.pid" /run/munge/munged.pid; do
        if alive "$pidfile"; then kill "$(cat "$pidfile")"; fi
    done
    echo "local_slurm: stopped" >&2
}

case ${1:-} in
    start) shift; start "$@" ;;
    stop) stop ;;
    status) answers ;;
    *) die "usage: $0 start [--gpus N] | stop | status" ;;
esac
