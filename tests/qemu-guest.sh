#!/bin/bash
# qemu-guest.sh OUTDIR: builds the QEMU guest of tests/migrate-qemu.sh in
# OUTDIR: OUTDIR/vmlinuz (Debian's cloud kernel, from the package
# linux-image-cloud-amd64 depends on, fetched with 'apt-get download' and
# unpacked, never installed) and OUTDIR/initrd.gz (a busybox-static
# initramfs with the kernel's virtio-net modules and an init that reads
# its parameters from the kernel command line, below).
#
# The kernel and its modules are cached in $FS_QEMU_CACHE (default
# /root/.cache/flowsteer/qemu, i.e. ~/.cache/...) by kernel version, so
# only the first run downloads (27 MB).  Exits 77 with the reason on
# stdout if it cannot be done here (no busybox-static, no cpio, the
# download fails), 1 on another error, 0 when both files are in OUTDIR.
#
# Guest kernel command line parameters read by init:
#   qx_ip=ADDR/LEN   eth0's address (default 10.0.0.1/24)
#   qx_srv=ADDR      the server (default 10.0.0.100)
#   qx_port=N        the stream's port (default 8080)
#   qx_us=N          microseconds between two lines of the stream
#                    (default 100000)
#   qx_drop=N        if set, a connection to qx_srv:N is tried again and
#                    again (2 s after init; each try with a 2 s timeout;
#                    "qxguest: drop-try N" on the console after each)
#                    from local port qx_dsport (default 45000; the
#                    guest's ephemeral port range is set to it), so every
#                    try is the same 5-tuple, as tests/migrate-traffic.py's
#                    retry
#   qx_mode=client|shell  client (default): the stream, below; shell: none
# The stream: busybox nc to qx_srv:qx_port, one line "seq N up=UPTIME"
# every qx_us, each echo read back; every 50th echo is reported on the
# console ("qxguest: echo-rx n=..."), a reset or EOF as "qxguest:
# EOF/RESET", a failed write as "qxguest: WRITE FAILED"; it reconnects
# after a failure ("qxguest: CLIENT EXITED", then "connecting").  Init
# prints "qxguest: READY" once eth0 is up; a shell stays on ttyS0.
set -u
out=${1:?usage: qemu-guest.sh OUTDIR}
cache=${FS_QEMU_CACHE:-${HOME:-/root}/.cache/flowsteer/qemu}
skip() { echo "SKIP: $*"; exit 77; }
die() { echo "qemu-guest: $*" >&2; exit 1; }

[ -x /bin/busybox ] ||
    skip "no /bin/busybox (apt-get install busybox-static)"
ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' ||
    skip "/bin/busybox is not static (apt-get install busybox-static)"
command -v cpio > /dev/null || skip "no cpio (apt-get install cpio)"
command -v apt-get > /dev/null && command -v dpkg-deb > /dev/null ||
    skip "no apt-get/dpkg-deb to fetch the guest kernel"
mkdir -p "$out" "$cache" || die "cannot create $out or $cache"

# The kernel package: what linux-image-cloud-amd64 depends on (a cached
# one if apt cannot say).
pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' |
      head -n 1)
if [ -z "$pkg" ]; then
    pkg=$(ls -d "$cache"/linux-image-*-cloud-amd64 2>/dev/null | tail -n 1)
    pkg=${pkg##*/}
fi
[ -n "$pkg" ] ||
    skip "no linux-image-cloud-amd64 known to apt (apt-get update?)"
kdir=$cache/$pkg
if [ ! -s "$kdir/vmlinuz" ] || [ ! -d "$kdir/modules" ]; then
    dl=$(mktemp -d "${TMPDIR:-/tmp}/qemu-guest.XXXXXX") || die "mktemp"
    trap 'rm -rf "$dl"' EXIT
    if ! (cd "$dl" && apt-get download "$pkg") > "$dl/download.log" 2>&1
    then
        # Offline: any kernel cached before will do.
        old=$(ls -d "$cache"/linux-image-*-cloud-amd64 2>/dev/null | tail -n 1)
        if [ -z "$old" ] || [ ! -s "$old/vmlinuz" ]; then
            tail -n 3 "$dl/download.log"
            skip "cannot download $pkg (apt-get download)"
        fi
        echo "qemu-guest: cannot download $pkg, using ${old##*/} (cached)"
        pkg=${old##*/} kdir=$old
    fi
fi
if [ ! -s "$kdir/vmlinuz" ] || [ ! -d "$kdir/modules" ]; then
    dpkg-deb -x "$dl"/"$pkg"_*.deb "$dl/x" || die "cannot unpack $pkg"
    rm -rf "$kdir.new"
    mkdir -p "$kdir.new/modules" || die "cannot create $kdir.new"
    cp "$dl"/x/boot/vmlinuz-* "$kdir.new/vmlinuz" || die "no vmlinuz in $pkg"
    k=$(ls -d "$dl"/x/lib/modules/*/kernel | head -n 1)
    for f in drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko \
             drivers/virtio/virtio_pci_legacy_dev.ko \
             drivers/virtio/virtio_pci_modern_dev.ko \
             drivers/virtio/virtio_pci.ko net/core/failover.ko \
             drivers/net/net_failover.ko drivers/net/virtio_net.ko; do
        # Built in rather than a module in some kernel: nothing to load.
        [ ! -f "$k/$f" ] || cp "$k/$f" "$kdir.new/modules/" ||
            die "cannot copy $f"
    done
    rm -rf "$kdir" && mv "$kdir.new" "$kdir" || die "cannot fill $kdir"
fi
cp "$kdir/vmlinuz" "$out/vmlinuz" || die "cannot copy the kernel"

# The initramfs.
r=$out/initrd
rm -rf "$r"
mkdir -p "$r"/{bin,sbin,proc,sys,dev,tmp,lib/mod,etc} || die "mkdir $r"
cp /bin/busybox "$r/bin/busybox" || die "cannot copy busybox"
cp "$kdir"/modules/*.ko "$r/lib/mod/" 2>/dev/null || :
cat > "$r/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo "qxguest: init start uptime=$(cut -d' ' -f1 /proc/uptime)"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev \
         virtio_pci failover net_failover virtio_net; do
    [ ! -f /lib/mod/$m.ko ] || insmod /lib/mod/$m.ko || echo "qxguest: insmod $m failed"
done
for kv in $(cat /proc/cmdline); do
    case "$kv" in qx_*=*) eval "${kv%%=*}='${kv#*=}'";; esac
done
: ${qx_ip:=10.0.0.1/24} ${qx_srv:=10.0.0.100} ${qx_port:=8080}
: ${qx_mode:=client} ${qx_us:=100000} ${qx_drop:=} ${qx_dsport:=45000}
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do usleep 100000; i=$((i+1)); done
ip link set lo up; ip link set eth0 up; ip addr add $qx_ip dev eth0
echo "qxguest: net up uptime=$(cut -d' ' -f1 /proc/uptime) $(ip -o -4 addr show eth0)"
cat > /bin/qxclient.sh <<'EOS'
#!/bin/sh
# stdin/stdout are the TCP socket (busybox nc -e).  An asynchronous list
# gets stdin from /dev/null unless redirected: hence fd 3.
exec 3<&0
( n=0
  while read l; do
      n=$((n+1))
      [ $((n%50)) = 0 ] && echo "qxguest: echo-rx n=$n last='$l' up=$(cut -d' ' -f1 /proc/uptime)" >/dev/console
  done
  echo "qxguest: EOF/RESET on read after $n echoes up=$(cut -d' ' -f1 /proc/uptime)" >/dev/console ) <&3 &
i=0
while :; do
    echo "seq $i up=$(cut -d' ' -f1 /proc/uptime)" ||
        { echo "qxguest: WRITE FAILED at seq $i" >/dev/console; exit 1; }
    i=$((i+1)); usleep QX_US
done
EOS
sed -i "s/QX_US/$qx_us/" /bin/qxclient.sh
chmod +x /bin/qxclient.sh
if [ "$qx_mode" = client ]; then
    ( while :; do
          echo "qxguest: connecting to $qx_srv:$qx_port up=$(cut -d' ' -f1 /proc/uptime)"
          nc $qx_srv $qx_port -e /bin/qxclient.sh
          echo "qxguest: CLIENT EXITED rc=$? up=$(cut -d' ' -f1 /proc/uptime)"; sleep 1
      done ) &
    if [ -n "$qx_drop" ]; then
        # busybox nc has no local port for a client (-p is for -l): the
        # tries get one 5-tuple from a local port range of one port, set
        # once the stream is connected (it keeps its port).
        ( sleep 2
          echo "$qx_dsport $qx_dsport" > /proc/sys/net/ipv4/ip_local_port_range
          n=0
          while :; do
              n=$((n+1))
              if nc -w 2 $qx_srv $qx_drop </dev/null >/dev/null 2>&1; then
                  echo "qxguest: drop-try $n CONNECTED"
              else
                  echo "qxguest: drop-try $n"
              fi
              usleep 200000
          done ) &
    fi
fi
echo "qxguest: READY uptime=$(cut -d' ' -f1 /proc/uptime)"
while :; do setsid cttyhack sh; done
EOF
chmod +x "$r/init"
(cd "$r" && find . | cpio -o -H newc 2>/dev/null | gzip -9 > "$out/initrd.gz") ||
    die "cannot make the initramfs"
rm -rf "$r"
echo "qemu-guest: $out/vmlinuz ($pkg), $out/initrd.gz"
