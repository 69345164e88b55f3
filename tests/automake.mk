# Tests.  'make check' runs every entry of TESTS with the parallel harness;
# a test exits 0 (pass), 77 (skip, with the reason on stdout) or other (fail).
# Shared test data (../shared/data beside the checkout) is found through
# FLOWSTEER_SHARED, which may be overridden from the environment.
FLOWSTEER_SHARED ?= $(abs_top_srcdir)/../shared
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	top_builddir='$(abs_top_builddir)'; export top_builddir; \
	FLOWSTEER_SHARED='$(FLOWSTEER_SHARED)'; export FLOWSTEER_SHARED; \
	PYTHON3='$(PYTHON3)'; export PYTHON3; \
	NDPIREADER='$(NDPIREADER)'; export NDPIREADER; \
	CC='$(CC)'; export CC; \
	BUILD_CFLAGS='$(CFLAGS)'; export BUILD_CFLAGS; \
	BUILD_LDFLAGS='$(LDFLAGS)'; export BUILD_LDFLAGS;

# Every test runs under tests/with-timeout.sh: one that hangs fails after
# TEST_TIMEOUT seconds (default 900) instead of holding CI.
LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/with-timeout.sh

# Unit tests of internal modules (linked with the convenience library).
check_PROGRAMS += tests/test-policy tests/test-inspector tests/test-exceptions \
	tests/test-flows tests/test-ndpi-regress
tests_test_policy_SOURCES = tests/test-policy.c tests/test-util.h
tests_test_policy_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/inspector
tests_test_policy_LDADD = inspector/libinspector.la
tests_test_inspector_SOURCES = tests/test-inspector.c tests/test-packets.h \
	tests/test-util.h
tests_test_inspector_CFLAGS = $(AM_CFLAGS) $(NDPI_CFLAGS)
tests_test_inspector_LDADD = inspector/libinspector.la
tests_test_exceptions_SOURCES = tests/test-exceptions.c tests/test-packets.h \
	tests/test-util.h
tests_test_exceptions_CFLAGS = $(AM_CFLAGS) $(NDPI_CFLAGS)
tests_test_exceptions_LDADD = inspector/libinspector.la
tests_test_flows_SOURCES = tests/test-flows.c tests/test-packets.h \
	tests/test-util.h
tests_test_flows_CFLAGS = $(AM_CFLAGS) $(NDPI_CFLAGS)
tests_test_flows_LDADD = inspector/libinspector.la
tests_test_ndpi_regress_SOURCES = tests/test-ndpi-regress.c \
	tests/test-packets.h tests/test-util.h
tests_test_ndpi_regress_CFLAGS = $(AM_CFLAGS) $(NDPI_CFLAGS)
tests_test_ndpi_regress_LDADD = inspector/libinspector.la

# Migration in the middle of classification, over every reference capture
# (run by tests/migrate-split.sh).
check_PROGRAMS += tests/test-migrate-split
tests_test_migrate_split_SOURCES = tests/test-migrate-split.c
tests_test_migrate_split_CFLAGS = $(AM_CFLAGS) $(PCAP_CFLAGS)
tests_test_migrate_split_LDADD = inspector/libinspector.la $(PCAP_LIBS)

# The appliance channel's messages.
check_PROGRAMS += tests/test-chan
tests_test_chan_SOURCES = tests/test-chan.c tests/test-util.h
tests_test_chan_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/dpdk-pmd
tests_test_chan_LDADD = dpdk-pmd/libfschan.la

# The migration messages between two flowsteerd.
check_PROGRAMS += tests/test-mig-msg
tests_test_mig_msg_SOURCES = tests/test-mig-msg.c tests/test-util.h
tests_test_mig_msg_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/ovs-ext
tests_test_mig_msg_LDADD = ovs-ext/libfsmig.la

# The appliance's sandbox (dpdk-pmd/fs-sandbox.h), run by tests/sandbox.sh.
check_PROGRAMS += tests/test-sandbox
tests_test_sandbox_SOURCES = tests/test-sandbox.c tests/test-util.h
tests_test_sandbox_CPPFLAGS = $(FS_PORT_CPPFLAGS)
tests_test_sandbox_LDADD = dpdk-pmd/libfssandbox.la dpdk-pmd/libfsport.la

# fr-conn's routing and bounds (it needs libopenvswitch).
if HAVE_OVS
check_PROGRAMS += tests/test-fr-conn
TESTS += tests/test-fr-conn
tests_test_fr_conn_SOURCES = tests/test-fr-conn.c tests/test-util.h
tests_test_fr_conn_CPPFLAGS = $(FLOWRULES_CPPFLAGS) -I$(top_srcdir)
tests_test_fr_conn_CFLAGS = $(FLOWRULES_CFLAGS)
tests_test_fr_conn_LDADD = flowrules/libflowrules.la $(OVS_LIBS)
endif
EXTRA_DIST += tests/test-fr-conn.c

# The dpdk port backend over net_ring devices (no hugepages, no OVS).
if HAVE_DPDK
check_PROGRAMS += tests/test-port-dpdk
TESTS += tests/test-port-dpdk
tests_test_port_dpdk_SOURCES = tests/test-port-dpdk.c tests/test-util.h
tests_test_port_dpdk_CPPFLAGS = $(FS_PORT_CPPFLAGS)
tests_test_port_dpdk_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS)
tests_test_port_dpdk_LDADD = dpdk-pmd/libfsport.la -lrte_net_ring \
	$(DPDK_LIBS)
endif
EXTRA_DIST += tests/test-port-dpdk.c

# The shell tests: run, and shipped.
SHELL_TESTS = \
	tests/cli.sh \
	tests/reference.sh \
	tests/migrate-split.sh \
	tests/bad-input.sh \
	tests/embed.sh \
	tests/ovs-sandbox.sh \
	tests/flowrules.sh \
	tests/flowsteerd.sh \
	tests/hosts.sh \
	tests/migrate.sh \
	tests/migrate-pull.sh \
	tests/migrate-faults.sh \
	tests/migrate-spoof.sh \
	tests/migrate-rarp.sh \
	tests/migrate-hold.sh \
	tests/migrate-inbound.sh \
	tests/fleet.sh \
	tests/flowsteer-ctl.sh \
	tests/libvirt-hook.sh \
	tests/port-afpacket.sh \
	tests/port-afxdp.sh \
	tests/sandbox.sh \
	tests/appliance.sh \
	tests/appliance-dpdk.sh \
	tests/appliance-hostile.sh \
	tests/appliance-migrate.sh \
	tests/port-dpdk-pcap.sh \
	tests/attack-baseline.sh \
	tests/packages.sh \
	tests/e2e.sh \
	tests/e2e-afxdp.sh \
	tests/e2e-dpdk.sh \
	tests/e2e-apps.sh \
	tests/enforce-attacks.sh \
	tests/enforce-conns.sh \
	tests/enforce-restart.sh \
	tests/faults.sh \
	tests/bad-config.sh \
	tests/flood.sh \
	tests/ports.sh \
	tests/neighbours.sh \
	tests/neighbours-open.sh \
	tests/workers.sh \
	tests/style.sh

# The end-to-end, enforcement and fault scenarios again on the other
# backends: OVS-DPDK with the appliance on vhost-user, and AF_XDP.  In the
# plain build only (the sanitizer build runs each backend's e2e.sh and
# appliance.sh), to keep the whole check well within CI's time.
BACKEND_TESTS = \
	tests/e2e-apps-dpdk.sh \
	tests/e2e-apps-afxdp.sh \
	tests/enforce-attacks-dpdk.sh \
	tests/enforce-attacks-afxdp.sh \
	tests/enforce-conns-dpdk.sh \
	tests/enforce-conns-afxdp.sh \
	tests/enforce-restart-dpdk.sh \
	tests/enforce-restart-afxdp.sh \
	tests/faults-dpdk.sh \
	tests/faults-afxdp.sh \
	tests/flood-dpdk.sh \
	tests/flood-afxdp.sh \
	tests/appliance-hostile-dpdk.sh \
	tests/workers-dpdk.sh \
	tests/enforce-restart-workers.sh \
	tests/neighbours-dpdk.sh \
	tests/neighbours-afxdp.sh

TESTS += tests/test-chan
TESTS += tests/test-mig-msg
TESTS += tests/test-policy tests/test-inspector tests/test-exceptions \
	tests/test-flows tests/test-ndpi-regress \
	$(SHELL_TESTS)
# A real QEMU guest (TCG) that live-migrates: not under the sanitizers,
# where the guest, four times slower daemons and the other tests share
# two cores (one CI run there saw the guest's stream stall after it
# resumed on the destination; the daemons' migration code runs under the
# sanitizers in tests/migrate*.sh).
VM_TESTS = tests/migrate-qemu.sh
if !ENABLE_SANITIZERS
TESTS += $(BACKEND_TESTS) $(VM_TESTS)
else
# Under the sanitizers (four times slower) the split test runs two of its
# split points: each flow half-way through it (0), and every flow at once
# (-1).
AM_TESTS_ENVIRONMENT += MIGRATE_SPLITS='0 -1'; export MIGRATE_SPLITS;
endif

EXTRA_DIST += \
	$(SHELL_TESTS) \
	$(VM_TESTS) \
	tests/migrate-traffic.py \
	tests/migrate-peer.py \
	tests/migrate-lib.sh \
	tests/qemu-guest.sh \
	$(BACKEND_TESTS) \
	tests/lib.sh \
	tests/fake-appliance.py \
	tests/appliance-migrate.py \
	tests/port-lib.sh \
	tests/ovs-lib.sh \
	tests/with-timeout.sh \
	tests/attack.py \
	tests/compare-reference.py \
	tests/reference-exceptions.txt \
	tests/migrate-split-exceptions.txt \
	tests/tls-client.py \
	tests/tls-server.py \
	tests/golden/enforce-flows.json \
	tests/gen-bad-captures.py

include tests/fuzz/automake.mk
