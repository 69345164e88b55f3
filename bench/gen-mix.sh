#!/usr/bin/env bash
# gen-mix.sh: generate a realistic traffic capture for the inspector benchmark.
#
# Real clients talk to real servers (all from Debian packages) across a veth
# pair between two network namespaces, fsbench-cli (10.99.0.1, fd99::1) and
# fsbench-srv (10.99.0.2, fd99::2).  tcpdump on the client's veth writes
# the capture.  The server runs nginx (HTTP and HTTPS with a self-signed
# certificate for www.flowsteer.test), dnsmasq (a local zone) and sshd (key
# auth with a throwaway key).  The clients are curl, openssl s_client, dig
# and ssh: many short HTTP, TLS and DNS flows, a few SSH sessions and one
# long bulk HTTP download running alongside them.
#
# Needs root.  Idempotent: a leftover of an earlier run (same namespaces) is
# removed first; everything started is stopped and removed on exit.

set -euo pipefail

NS_CLI=fsbench-cli
NS_SRV=fsbench-srv
IF_CLI=fsb-cli
IF_SRV=fsb-srv
IP_CLI=10.99.0.1
IP_SRV=10.99.0.2
IP6_CLI=fd99::1
IP6_SRV=fd99::2
DOMAIN=flowsteer.test
LOCK=/run/lock/fsbench-gen-mix.lock

# Debian packages behind the commands used here.
PACKAGES="iproute2 ethtool tcpdump nginx-light dnsmasq-base openssh-server
openssh-client openssl curl bind9-dnsutils iputils-ping python3"

n_http=120
n_tls=120
n_dns=200
n_ssh=5
bulk_mb=30
install_deps=false

usage() {
    cat <<EOF
Usage: $0 [OPTION]... OUT.pcap

Generates a capture of real HTTP, TLS, DNS and SSH traffic between two
network namespaces ($NS_CLI, $NS_SRV) and writes it to OUT.pcap.
Prints a summary: packets, bytes and flows by kind.  Needs root.

Options:
  --http N         short HTTP exchanges with curl (default $n_http)
  --tls N          short TLS exchanges, curl and openssl (default $n_tls)
  --dns N          DNS queries with dig (default $n_dns)
  --ssh N          ssh sessions (default $n_ssh)
  --bulk-mb M      size of the bulk HTTP download in MB, 0 for none
                   (default $bulk_mb)
  --install-deps   apt-get install what is missing first
  -h, --help       show this help

Packages used: ${PACKAGES//$'\n'/ }
EOF
}

die() {
    echo "$0: $*" >&2
    exit 1
}

is_count() {
    [[ $1 =~ ^[0-9]+$ ]] || die "$2: '$1' is not a number (try --help)"
}

out=
while [ $# -gt 0 ]; do
    case $1 in
        --http) is_count "${2-}" "$1"; n_http=$2; shift ;;
        --tls) is_count "${2-}" "$1"; n_tls=$2; shift ;;
        --dns) is_count "${2-}" "$1"; n_dns=$2; shift ;;
        --ssh) is_count "${2-}" "$1"; n_ssh=$2; shift ;;
        --bulk-mb) is_count "${2-}" "$1"; bulk_mb=$2; shift ;;
        --install-deps) install_deps=true ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option '$1' (try --help)" ;;
        *) [ -z "$out" ] || die "only one output file (try --help)"
           out=$1 ;;
    esac
    shift
done
[ -n "$out" ] || { usage >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, tcpdump)"

# --------------------------------------------------------------------------
# Tools.

missing_packages() {
    local p
    for p in $PACKAGES; do
        dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null \
            | grep -q 'install ok installed' || echo "$p"
    done
}

missing=$(missing_packages | tr '\n' ' ')
if [ -n "${missing// /}" ]; then
    if $install_deps; then
        echo "Installing: $missing"
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing \
            >/dev/null || die "apt-get install $missing failed"
    else
        die "missing packages: $missing(apt-get install $missing, or rerun
with --install-deps)"
    fi
fi

# --------------------------------------------------------------------------
# Setup and cleanup.

exec 9>"$LOCK"
flock -n 9 || die "another gen-mix.sh is running (lock $LOCK)"

tmp=
pids=()
made_privsep=false

kill_ns_pids() {
    # Processes left in a namespace this script created are its own.
    local ns=$1 pid
    ip netns pids "$ns" 2>/dev/null | while read -r pid; do
        kill "$pid" 2>/dev/null || true
    done
}

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    for ns in $NS_CLI $NS_SRV; do
        if ip netns list | grep -qw "^$ns"; then
            kill_ns_pids "$ns"
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
    if $made_privsep; then
        rmdir /run/sshd 2>/dev/null || true
    fi
    if [ -n "$tmp" ]; then
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A leftover of an interrupted run.
for ns in $NS_CLI $NS_SRV; do
    if ip netns list | grep -qw "^$ns"; then
        echo "Removing leftover namespace $ns"
        kill_ns_pids "$ns"
        ip netns del "$ns"
    fi
done

tmp=$(mktemp -d /tmp/fsbench-mix.XXXXXX)
mkdir -p "$tmp/www" "$tmp/nginx" "$tmp/ssh"
chmod 700 "$tmp/ssh"

cli() { ip netns exec "$NS_CLI" "$@"; }
srv() { ip netns exec "$NS_SRV" "$@"; }

ip netns add "$NS_CLI"
ip netns add "$NS_SRV"
ip link add "$IF_CLI" netns "$NS_CLI" type veth peer name "$IF_SRV" \
    netns "$NS_SRV"
cli ip link set lo up
srv ip link set lo up
cli ip addr add "$IP_CLI/24" dev "$IF_CLI"
srv ip addr add "$IP_SRV/24" dev "$IF_SRV"
cli ip -6 addr add "$IP6_CLI/64" dev "$IF_CLI" nodad
srv ip -6 addr add "$IP6_SRV/64" dev "$IF_SRV" nodad
# Checksums filled in by the stack (not left to an offload that a veth never
# performs), and wire-sized segments instead of 64 kB GSO/GRO super-packets,
# so the capture looks like what a NIC would see.
cli ethtool -K "$IF_CLI" tx off tso off gso off gro off >/dev/null 2>&1 || true
srv ethtool -K "$IF_SRV" tx off tso off gso off gro off >/dev/null 2>&1 || true
cli ip link set "$IF_CLI" up
srv ip link set "$IF_SRV" up

# --------------------------------------------------------------------------
# Server content, certificate, keys, configuration.

names=(www api cdn static)
openssl req -x509 -newkey rsa:2048 -nodes -days 7 -sha256 \
    -subj "/CN=www.$DOMAIN" \
    -addext "subjectAltName=$(for n in "${names[@]}"; do printf 'DNS:%s.%s,' \
        "$n" "$DOMAIN"; done | sed 's/,$//')" \
    -keyout "$tmp/nginx/key.pem" -out "$tmp/nginx/cert.pem" \
    >/dev/null 2>&1 || die "openssl req failed"

cat >"$tmp/www/index.html" <<EOF
<!DOCTYPE html>
<html><head><title>flowsteer bench</title></head>
<body><p>www.$DOMAIN: a page for the inspector benchmark.</p></body></html>
EOF
printf '{"status":"ok","items":[1,2,3]}\n' >"$tmp/www/api.json"
head -c 1500 /dev/urandom >"$tmp/www/small.bin"
head -c 16384 /dev/urandom >"$tmp/www/medium.bin"
head -c 204800 /dev/urandom >"$tmp/www/large.bin"
if [ "$bulk_mb" -gt 0 ]; then
    head -c "$((bulk_mb * 1024 * 1024))" /dev/urandom >"$tmp/www/bulk.bin"
fi

cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
user root;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    types {
        text/html html;
        application/json json;
        application/octet-stream bin;
    }
    default_type application/octet-stream;
    server {
        listen $IP_SRV:80;
        listen [$IP6_SRV]:80;
        listen $IP_SRV:443 ssl http2;
        listen [$IP6_SRV]:443 ssl http2;
        server_name www.$DOMAIN api.$DOMAIN cdn.$DOMAIN static.$DOMAIN;
        ssl_certificate $tmp/nginx/cert.pem;
        ssl_certificate_key $tmp/nginx/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        root $tmp/www;
        location = /submit { return 200 "accepted\n"; }
    }
}
EOF

# A local zone: names, aliases, mail, text and service records.
{
    for i in $(seq 1 40); do
        echo "10.99.1.$i host$i.$DOMAIN"
    done
} >"$tmp/hosts"
dns_args=(
    --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts
    --bind-interfaces --listen-address="$IP_SRV" --listen-address="$IP6_SRV"
    --pid-file="$tmp/dnsmasq.pid" --log-facility="$tmp/dnsmasq.log"
    --cache-size=0 --local="/$DOMAIN/" --domain="$DOMAIN"
    --addn-hosts="$tmp/hosts"
    --host-record="www.$DOMAIN,$IP_SRV,$IP6_SRV"
    --host-record="mail.$DOMAIN,10.99.0.3"
    --cname="api.$DOMAIN,www.$DOMAIN" --cname="cdn.$DOMAIN,www.$DOMAIN"
    --mx-host="$DOMAIN,mail.$DOMAIN,10"
    --txt-record="$DOMAIN,v=spf1 mx -all"
    --srv-host="_http._tcp.$DOMAIN,www.$DOMAIN,80"
)

ssh-keygen -q -t ed25519 -N '' -f "$tmp/ssh/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/ssh/client_ed25519"
cp "$tmp/ssh/client_ed25519.pub" "$tmp/ssh/authorized_keys"
cat >"$tmp/ssh/sshd_config" <<EOF
ListenAddress $IP_SRV
HostKey $tmp/ssh/host_ed25519
PidFile $tmp/ssh/sshd.pid
AuthorizedKeysFile $tmp/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
EOF
if [ ! -d /run/sshd ]; then
    # sshd's privilege separation directory, normally made by its unit.
    mkdir -m 755 /run/sshd
    made_privsep=true
fi

# --------------------------------------------------------------------------
# Servers.

# Started without the srv() helper so that $! is the server's own PID
# ('ip netns exec' execs the command).
ip netns exec "$NS_SRV" nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" \
    -c "$tmp/nginx/nginx.conf" &
pids+=($!)
ip netns exec "$NS_SRV" dnsmasq "${dns_args[@]}" &
pids+=($!)
ip netns exec "$NS_SRV" /usr/sbin/sshd -D -e -f "$tmp/ssh/sshd_config" \
    2>"$tmp/ssh/sshd.log" &
pids+=($!)

wait_listen() {
    # wait_listen PROTO PORT: until the server namespace listens there.
    local flag=-ltn i
    [ "$1" = udp ] && flag=-lun
    for i in $(seq 1 100); do
        [ -n "$(srv ss -H "$flag" "sport = :$2")" ] && return 0
        sleep 0.1
    done
    die "nothing listens on $1 port $2 in $NS_SRV (logs in $tmp)"
}
wait_listen tcp 80
wait_listen tcp 443
wait_listen udp 53
wait_listen tcp 22

# --------------------------------------------------------------------------
# Capture.

part="$out.part"
rm -f "$part"
mkdir -p "$(dirname -- "$out")"
: >"$tmp/tcpdump.log"
ip netns exec "$NS_CLI" tcpdump -i "$IF_CLI" -Z root -s 0 -B 131072 -U -n \
    -w "$part" 2>"$tmp/tcpdump.log" &
tcpdump_pid=$!
pids+=("$tcpdump_pid")
for i in $(seq 1 100); do
    grep -q 'listening on' "$tmp/tcpdump.log" && break
    kill -0 "$tcpdump_pid" 2>/dev/null || die "tcpdump failed:
$(cat "$tmp/tcpdump.log")"
    sleep 0.1
done

# --------------------------------------------------------------------------
# Traffic.

agents=(
    "curl/7.88.1"
    "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0"
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML,\
 like Gecko) Chrome/120.0 Safari/537.36"
    "Wget/1.21.3"
    "python-requests/2.28.1"
)
paths=(/ /index.html /api.json /small.bin /medium.bin /large.bin /missing)
ssh_opts=(
    -F /dev/null -i "$tmp/ssh/client_ed25519" -o BatchMode=yes
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
    -o LogLevel=ERROR
)
count_http=0 count_tls=0 count_dns=0 count_ssh=0 count_bulk=0

# The long flow first, rate-limited so that it spans the short ones.
bulk_pid=
if [ "$bulk_mb" -gt 0 ]; then
    ip netns exec "$NS_CLI" curl -s -o /dev/null --limit-rate 6M \
        "http://$IP_SRV/bulk.bin" &
    bulk_pid=$!
    pids+=("$bulk_pid")
    count_bulk=1
fi

# SSH sessions, one in the background that moves some data.
ssh_bg=
ssh_cmds=("true" "uname -a" "ls -l /" "cat /etc/os-release" "id")
for i in $(seq 1 "$n_ssh"); do
    if [ "$i" = 1 ]; then
        ip netns exec "$NS_CLI" ssh "${ssh_opts[@]}" "root@$IP_SRV" \
            'head -c 2000000 /dev/urandom' >/dev/null &
        ssh_bg=$!
        pids+=("$ssh_bg")
    else
        cli ssh "${ssh_opts[@]}" -c aes128-gcm@openssh.com "root@$IP_SRV" \
            "${ssh_cmds[$((i % ${#ssh_cmds[@]}))]}" >/dev/null \
            || die "ssh to $IP_SRV failed (see $tmp/ssh/sshd.log)"
    fi
    count_ssh=$((count_ssh + 1))
done

# DNS: a batch file of names and types, some unanswerable; some over TCP.
dns_names=(www api cdn mail host1 host7 host23 nosuch "" _http._tcp)
dns_types=(A AAAA A MX TXT A ANY SRV)
: >"$tmp/dig.batch"
for i in $(seq 1 "$n_dns"); do
    n=${dns_names[$((i % ${#dns_names[@]}))]}
    t=${dns_types[$((i % ${#dns_types[@]}))]}
    [ "$n" = _http._tcp ] && t=SRV
    name=${n:+$n.}$DOMAIN
    opts="+tries=1 +time=2"
    [ $((i % 40)) = 0 ] && opts="$opts +tcp"
    [ $((i % 10)) = 5 ] && name="@$IP6_SRV $name"
    echo "$name $t $opts" >>"$tmp/dig.batch"
done
cli dig "@$IP_SRV" -f "$tmp/dig.batch" >"$tmp/dig.out" 2>&1 \
    || die "dig failed: $(tail -3 "$tmp/dig.out")"
count_dns=$n_dns

# HTTP and TLS interleaved: one process per connection, a few connections
# with several requests (keep-alive), a few over IPv6.
for i in $(seq 1 "$((n_http > n_tls ? n_http : n_tls))"); do
    ua=${agents[$((i % ${#agents[@]}))]}
    p=${paths[$((i % ${#paths[@]}))]}
    if [ "$i" -le "$n_http" ]; then
        host=$IP_SRV
        [ $((i % 6)) = 0 ] && host="[$IP6_SRV]"
        extra=()
        case $((i % 10)) in
            3) extra=(-X POST --data "user=bench&n=$i") p=/submit ;;
            7) extra=(-I) ;;
            9) extra=("http://$host/api.json" "http://$host/small.bin") ;;
        esac
        cli curl -s -g -A "$ua" -H "Host: www.$DOMAIN" \
            "${extra[@]}" "http://$host$p" >/dev/null || die "curl http failed"
        count_http=$((count_http + 1))
    fi
    if [ "$i" -le "$n_tls" ]; then
        name=${names[$((i % ${#names[@]}))]}.$DOMAIN
        if [ $((i % 8)) = 4 ]; then
            # A different TLS stack: openssl s_client with a plain request.
            printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' \
                "$p" "$name" \
                | cli openssl s_client -quiet -connect "$IP_SRV:443" \
                    -servername "$name" >/dev/null 2>&1 \
                || die "openssl s_client failed"
        else
            extra=()
            case $((i % 5)) in
                1) extra=(--http1.1) ;;
                2) extra=(--tlsv1.2 --tls-max 1.2 --http1.1) ;;
                3) extra=(--tlsv1.2 --tls-max 1.2) ;;
            esac
            cli curl -s -k -o /dev/null -A "$ua" "${extra[@]}" \
                --resolve "$name:443:$IP_SRV" "https://$name$p" \
                || die "curl https failed"
        fi
        count_tls=$((count_tls + 1))
    fi
done

# A few pings.
cli ping -c 3 -i 0.2 -q "$IP_SRV" >/dev/null || die "ping failed"

if [ -n "$ssh_bg" ]; then
    wait "$ssh_bg" || die "background ssh failed"
fi
if [ -n "$bulk_pid" ]; then
    wait "$bulk_pid" || die "bulk download failed"
fi
sleep 0.5
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
grep -E 'captured|dropped' "$tmp/tcpdump.log" | sed 's/^/tcpdump: /'
mv -f "$part" "$out"

# --------------------------------------------------------------------------
# Summary, read back from the capture itself.

echo "Clients run: http $count_http, tls $count_tls, dns $count_dns," \
    "ssh $count_ssh, bulk $count_bulk (${bulk_mb} MB)"
python3 - "$out" <<'EOF'
import struct
import sys

path = sys.argv[1]
with open(path, 'rb') as f:
    data = f.read()
magic = struct.unpack('<I', data[:4])[0]
endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
off = 24
flows = {}
packets = 0
non_ip = 0
while off + 16 <= len(data):
    _, _, caplen, _ = struct.unpack(endian + 'IIII', data[off:off + 16])
    pkt = data[off + 16:off + 16 + caplen]
    off += 16 + caplen
    packets += 1
    etype = struct.unpack('!H', pkt[12:14])[0]
    if etype == 0x0800:
        ihl = (pkt[14] & 15) * 4
        proto = pkt[23]
        src, dst = pkt[26:30], pkt[30:34]
        l4 = pkt[14 + ihl:]
    elif etype == 0x86dd:
        proto = pkt[20]
        src, dst = pkt[22:38], pkt[38:54]
        l4 = pkt[54:]
    else:
        non_ip += 1
        continue
    sport = dport = 0
    if proto in (6, 17) and len(l4) >= 4:
        sport, dport = struct.unpack('!HH', l4[:4])
    a, b = (src, sport), (dst, dport)
    key = (proto,) + (a + b if a < b else b + a)
    fl = flows.setdefault(key, [0, 0, proto, min(sport, dport)])
    fl[0] += 1
    fl[1] += len(pkt)

kinds = {}
for pkts, nbytes, proto, port in flows.values():
    if proto == 6 and port == 80:
        kind = 'bulk http' if nbytes > 4 << 20 else 'http (curl)'
    elif proto == 6 and port == 443:
        kind = 'tls (curl, openssl)'
    elif port == 53:
        kind = 'dns %s (dig)' % ('tcp' if proto == 6 else 'udp')
    elif proto == 6 and port == 22:
        kind = 'ssh'
    elif proto in (1, 58):
        kind = 'icmp/icmpv6'
    else:
        kind = 'other'
    k = kinds.setdefault(kind, [0, 0, 0])
    k[0] += 1
    k[1] += pkts
    k[2] += nbytes

print('%s: %d packets, %.1f MB, %d flows, %d non-IP packets'
      % (path, packets, len(data) / 1e6, len(flows), non_ip))
print('  %-22s %7s %9s %12s' % ('kind', 'flows', 'packets', 'bytes'))
for kind, (n, pkts, nbytes) in sorted(kinds.items(), key=lambda x: -x[1][0]):
    print('  %-22s %7d %9d %12d' % (kind, n, pkts, nbytes))
EOF
