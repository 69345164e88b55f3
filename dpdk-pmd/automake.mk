# dpdk-pmd/: the inspector's packet I/O ports (see DESIGN.md, "The data
# path").  libc only: the port interface (fs-port.h), its provider
# interface (fs-port-provider.h) and the backends, built as a convenience
# library that flowsteerd (ovs-ext/) links.
FS_PORT_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/dpdk-pmd

noinst_LTLIBRARIES += dpdk-pmd/libfsport.la
dpdk_pmd_libfsport_la_SOURCES = \
	dpdk-pmd/fs-port.c \
	dpdk-pmd/fs-port.h \
	dpdk-pmd/fs-port-provider.h \
	dpdk-pmd/fs-port-afpacket.c
dpdk_pmd_libfsport_la_CPPFLAGS = $(FS_PORT_CPPFLAGS)

# Forwards between two ports, both ways: the bump in the wire, used by
# tests/port-afpacket.sh.
noinst_PROGRAMS += dpdk-pmd/fs-portfwd
dpdk_pmd_fs_portfwd_SOURCES = dpdk-pmd/fs-portfwd.c
dpdk_pmd_fs_portfwd_CPPFLAGS = $(FS_PORT_CPPFLAGS)
dpdk_pmd_fs_portfwd_LDADD = dpdk-pmd/libfsport.la

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
