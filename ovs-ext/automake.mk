# ovs-ext/: flowsteerd, the OVS extension daemon (libopenvswitch).

# The migration messages between two flowsteerd (no OVS: the unit test and
# the fuzz target use them too).
noinst_LTLIBRARIES += ovs-ext/libfsmig.la
ovs_ext_libfsmig_la_SOURCES = ovs-ext/fs-mig-msg.c ovs-ext/fs-mig-msg.h

if HAVE_OVS
sbin_PROGRAMS += ovs-ext/flowsteerd
ovs_ext_flowsteerd_SOURCES = \
	ovs-ext/flowsteerd.c \
	ovs-ext/fs-config.c \
	ovs-ext/fs-config.h \
	ovs-ext/fs-flows.c \
	ovs-ext/fs-flows.h \
	ovs-ext/fs-policy.c \
	ovs-ext/fs-policy.h \
	ovs-ext/fs-appliance.c \
	ovs-ext/fs-appliance.h \
	ovs-ext/fs-steer.c \
	ovs-ext/fs-steer.h \
	ovs-ext/fs-guard.c \
	ovs-ext/fs-guard.h \
	ovs-ext/fs-live.c \
	ovs-ext/fs-live.h \
	ovs-ext/fs-topo.c \
	ovs-ext/fs-topo.h \
	ovs-ext/fs-saver.c \
	ovs-ext/fs-saver.h \
	ovs-ext/fs-verdict.c \
	ovs-ext/fs-verdict.h \
	ovs-ext/fs-watchdog.c \
	ovs-ext/fs-watchdog.h \
	ovs-ext/fs-migrate.c \
	ovs-ext/fs-migrate.h \
	ovs-ext/fs-fleet.c \
	ovs-ext/fs-fleet.h
ovs_ext_flowsteerd_CPPFLAGS = $(FLOWRULES_CPPFLAGS) -I$(top_srcdir)/ovs-ext \
	-I$(top_builddir) -I$(top_srcdir)/dpdk-pmd \
	-DFLOWSTEER_SBINDIR='"$(sbindir)"'
ovs_ext_flowsteerd_CFLAGS = $(FLOWRULES_CFLAGS)
ovs_ext_flowsteerd_LDADD = flowrules/libflowrules.la ovs-ext/libfsmig.la \
	ovs-ext/libfsidl.la \
	dpdk-pmd/libfsport.la \
	dpdk-pmd/libfschan.la dpdk-pmd/libfssandbox.la \
	inspector/libflowsteer-inspector.la $(OVS_LIBS)
dist_man_MANS += ovs-ext/flowsteerd.8

# The inspector appliance that flowsteerd starts: the inspector, nDPI and
# the packet ports, linked statically (no libtool wrapper, so flowsteerd
# can exec it from the build tree).
sbin_PROGRAMS += ovs-ext/flowsteer-inspectord
ovs_ext_flowsteer_inspectord_SOURCES = \
	ovs-ext/flowsteer-inspectord.c \
	ovs-ext/fs-dp.c \
	ovs-ext/fs-dp.h
ovs_ext_flowsteer_inspectord_CPPFLAGS = $(FLOWRULES_CPPFLAGS) \
	-I$(top_srcdir)/ovs-ext -I$(top_srcdir)/dpdk-pmd
ovs_ext_flowsteer_inspectord_CFLAGS = $(FLOWRULES_CFLAGS) $(NDPI_CFLAGS)
ovs_ext_flowsteer_inspectord_LDADD = dpdk-pmd/libfsport.la \
	dpdk-pmd/libfschan.la dpdk-pmd/libfssandbox.la \
	inspector/libinspector.la $(NDPI_LIBS) $(OVS_LIBS)

# The Flowsteer database: its schema, installed where OVN installs its own
# (the package's data directory), and its C IDL, which OVS's ovsdb-idlc
# makes from it, as OVN's build does.
dist_pkgdata_DATA += ovs-ext/flowsteer.ovsschema
OVSDB_IDLC = PYTHONPATH="$(OVS_SRCDIR)/python$${PYTHONPATH:+:$$PYTHONPATH}" \
	$(PYTHON3) $(OVS_SRCDIR)/ovsdb/ovsdb-idlc.in
ovs-ext/flowsteer-idl.ovsidl: ovs-ext/flowsteer.ovsschema \
		ovs-ext/flowsteer-idl.ann
	$(AM_V_GEN)$(MKDIR_P) ovs-ext && \
	$(OVSDB_IDLC) annotate $(srcdir)/ovs-ext/flowsteer.ovsschema \
		$(srcdir)/ovs-ext/flowsteer-idl.ann > $@.tmp && mv $@.tmp $@
# (The IDL's own source is compiled with OVS's config.h, as libopenvswitch
# was: it uses OVS's atomics and thread-local storage.)
ovs-ext/flowsteer-idl.c: ovs-ext/flowsteer-idl.ovsidl
	$(AM_V_GEN)$(OVSDB_IDLC) c-idl-source $< | \
	sed 's|^#include <config.h>$$|#include "$(OVS_BUILDDIR)/config.h"|' \
		> $@.tmp && mv $@.tmp $@
ovs-ext/flowsteer-idl.h: ovs-ext/flowsteer-idl.ovsidl
	$(AM_V_GEN)$(OVSDB_IDLC) c-idl-header $< > $@.tmp && mv $@.tmp $@
BUILT_SOURCES += ovs-ext/flowsteer-idl.h
# Built once for every program that uses it (flowsteerd, flowsteer-ctl,
# bench/fleet-sim).
noinst_LTLIBRARIES += ovs-ext/libfsidl.la
nodist_ovs_ext_libfsidl_la_SOURCES = \
	ovs-ext/flowsteer-idl.c \
	ovs-ext/flowsteer-idl.h
ovs_ext_libfsidl_la_CPPFLAGS = $(FLOWRULES_CPPFLAGS) -I$(top_builddir)
ovs_ext_libfsidl_la_CFLAGS = $(FLOWRULES_CFLAGS)

# flowsteer-ctl: the admin's command line for the database (db-ctl-base,
# as ovn-nbctl).  It checks policies with the inspector's parser.
bin_PROGRAMS += ovs-ext/flowsteer-ctl
# (fs-fleet.c: a profile's rules composed as every chassis composes them.)
ovs_ext_flowsteer_ctl_SOURCES = ovs-ext/flowsteer-ctl.c ovs-ext/fs-fleet.c
ovs_ext_flowsteer_ctl_CPPFLAGS = $(FLOWRULES_CPPFLAGS) -I$(top_srcdir)/ovs-ext \
	-I$(top_builddir)
ovs_ext_flowsteer_ctl_CFLAGS = $(FLOWRULES_CFLAGS)
ovs_ext_flowsteer_ctl_LDADD = ovs-ext/libfsidl.la \
	inspector/libflowsteer-inspector.la $(OVS_LIBS)
dist_man_MANS += ovs-ext/flowsteer-ctl.8
CLEANFILES += ovs-ext/flowsteer-idl.ovsidl ovs-ext/flowsteer-idl.c \
	ovs-ext/flowsteer-idl.h

# The systemd unit, with the install path of flowsteerd.
systemdunitdir = $(prefix)/lib/systemd/system
systemdunit_DATA = ovs-ext/flowsteerd.service
ovs-ext/flowsteerd.service: ovs-ext/flowsteerd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) ovs-ext && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' $(srcdir)/ovs-ext/flowsteerd.service.in > $@
CLEANFILES += ovs-ext/flowsteerd.service
endif
EXTRA_DIST += ovs-ext/flowsteerd.service.in ovs-ext/flowsteerd.8 \
	ovs-ext/flowsteer-idl.ann
