# dpdk-pmd/: the inspector's packet I/O ports (see DESIGN.md, "The data
# path").  The port interface (fs-port.h), its provider interface
# (fs-port-provider.h) and the backends, built as a convenience library
# that flowsteerd (ovs-ext/) links: afpacket needs libc only, afxdp
# libxdp and libbpf, dpdk (unless configured --disable-dpdk) libdpdk.
FS_PORT_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/dpdk-pmd

noinst_LTLIBRARIES += dpdk-pmd/libfsport.la
dpdk_pmd_libfsport_la_SOURCES = \
	dpdk-pmd/fs-port.c \
	dpdk-pmd/fs-port.h \
	dpdk-pmd/fs-port-provider.h \
	dpdk-pmd/fs-port-afpacket.c
dpdk_pmd_libfsport_la_CPPFLAGS = $(FS_PORT_CPPFLAGS)
# Each backend adds its library's flags.
dpdk_pmd_libfsport_la_CFLAGS = $(AM_CFLAGS)
dpdk_pmd_libfsport_la_LIBADD =

# DPDK (unless configured --disable-dpdk).
if HAVE_DPDK
dpdk_pmd_libfsport_la_SOURCES += dpdk-pmd/fs-port-dpdk.c
dpdk_pmd_libfsport_la_CFLAGS += $(DPDK_CFLAGS)
dpdk_pmd_libfsport_la_LIBADD += $(DPDK_LIBS) -lpthread
endif
EXTRA_DIST += dpdk-pmd/fs-port-dpdk.c

# AF_XDP, with libxdp's xsk API and libbpf for the XDP program.
if HAVE_XDP
if HAVE_BPF
dpdk_pmd_libfsport_la_SOURCES += dpdk-pmd/fs-port-afxdp.c
dpdk_pmd_libfsport_la_CFLAGS += $(XDP_CFLAGS) $(BPF_CFLAGS)
dpdk_pmd_libfsport_la_LIBADD += $(XDP_LIBS) $(BPF_LIBS)
endif
endif
EXTRA_DIST += dpdk-pmd/fs-port-afxdp.c

# Forwards between two ports, both ways: the bump in the wire, used by
# tests/port-afpacket.sh and tests/port-dpdk-pcap.sh.
noinst_PROGRAMS += dpdk-pmd/fs-portfwd
dpdk_pmd_fs_portfwd_SOURCES = dpdk-pmd/fs-portfwd.c
dpdk_pmd_fs_portfwd_CPPFLAGS = $(FS_PORT_CPPFLAGS)
dpdk_pmd_fs_portfwd_LDADD = dpdk-pmd/libfsport.la

# The messages between flowsteerd and its inspector appliance (fs-chan.h):
# libc only, used by both sides and by the fuzz target.
noinst_LTLIBRARIES += dpdk-pmd/libfschan.la
dpdk_pmd_libfschan_la_SOURCES = dpdk-pmd/fs-chan.c dpdk-pmd/fs-chan.h
dpdk_pmd_libfschan_la_CPPFLAGS = $(FS_PORT_CPPFLAGS)

# The inspector appliance's sandbox (fs-sandbox.h): dropping privileges
# with libcap-ng, a seccomp filter with libseccomp.  Its own library, so
# that what links only the ports stays libc only.
noinst_LTLIBRARIES += dpdk-pmd/libfssandbox.la
dpdk_pmd_libfssandbox_la_SOURCES = \
	dpdk-pmd/fs-sandbox.c \
	dpdk-pmd/fs-sandbox.h
dpdk_pmd_libfssandbox_la_CPPFLAGS = $(FS_PORT_CPPFLAGS)
dpdk_pmd_libfssandbox_la_CFLAGS = $(AM_CFLAGS) $(SECCOMP_CFLAGS) \
	$(CAPNG_CFLAGS)
dpdk_pmd_libfssandbox_la_LIBADD = $(SECCOMP_LIBS) $(CAPNG_LIBS)
