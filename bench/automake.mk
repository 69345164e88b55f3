# Benchmarks: programs that print figures side by side with a reference
# tool in the same run.  Not tests: 'make bench' runs them.
noinst_PROGRAMS += bench/inspect-bench
bench_inspect_bench_SOURCES = bench/inspect-bench.c
bench_inspect_bench_CFLAGS = $(AM_CFLAGS) $(PCAP_CFLAGS)
bench_inspect_bench_LDADD = inspector/libflowsteer-inspector.la $(PCAP_LIBS)
noinst_PROGRAMS += bench/inspect-memory
bench_inspect_memory_SOURCES = bench/inspect-memory.c
bench_inspect_memory_LDADD = inspector/libflowsteer-inspector.la

EXTRA_DIST += \
	bench/bench-lib.sh \
	bench/gen-mix.sh \
	bench/run-inspect-bench.sh

# 'make bench': inspect-bench against ndpiReader on the merged nDPI
# reference captures and a generated HTTP/TLS/DNS/SSH mix (gen-mix.sh, which
# needs root), both cached in bench/data/.  Options go in BENCH_FLAGS, e.g.
# make bench BENCH_FLAGS='--ndpi-config ../shared/data/ndpi-4.2/config'
bench: bench/inspect-bench bench/inspect-memory
	top_srcdir='$(abs_top_srcdir)' NDPIREADER='$(NDPIREADER)' \
	INSPECT_BENCH='$(abs_top_builddir)/bench/inspect-bench' \
	INSPECT_MEMORY='$(abs_top_builddir)/bench/inspect-memory' \
	$(SHELL) $(srcdir)/bench/run-inspect-bench.sh $(BENCH_FLAGS)
.PHONY: bench

# flowrules-bench: the flowrules library installing per-flow rules into a
# private ovs-vswitchd (netdev datapath, in its own network namespace),
# against 'ovs-ofctl --bundle add-flows' of the same rules, and per-flow
# install latency at a steady rate.  Needs root and OVS
# (configure --with-ovs-source), so it is not part of 'make bench':
# 'make bench-flowrules', options in BENCH_FLOWRULES_FLAGS, e.g.
# make bench-flowrules BENCH_FLOWRULES_FLAGS='--sizes "1000 10000"'
EXTRA_DIST += bench/run-flowrules-bench.sh
if HAVE_OVS
noinst_PROGRAMS += bench/flowrules-bench
bench_flowrules_bench_SOURCES = bench/flowrules-bench.c
bench_flowrules_bench_CPPFLAGS = $(FLOWRULES_CPPFLAGS)
bench_flowrules_bench_CFLAGS = $(FLOWRULES_CFLAGS)
# libflowrules uses the inspector's verdict helpers.
bench_flowrules_bench_LDADD = flowrules/libflowrules.la \
	inspector/libflowsteer-inspector.la $(OVS_LIBS)

# fleet-sim: N simulated chassis of the Flowsteer database, each
# flowsteerd's own fleet module (bench/bench-fleet.sh).
noinst_PROGRAMS += bench/fleet-sim
bench_fleet_sim_SOURCES = bench/fleet-sim.c ovs-ext/fs-fleet.c
bench_fleet_sim_CPPFLAGS = $(FLOWRULES_CPPFLAGS) -I$(top_srcdir)/ovs-ext \
	-I$(top_builddir)
bench_fleet_sim_CFLAGS = $(FLOWRULES_CFLAGS)
bench_fleet_sim_LDADD = ovs-ext/libfsidl.la $(OVS_LIBS)

bench-flowrules: bench/flowrules-bench
	FLOWRULES_BENCH='$(abs_top_builddir)/bench/flowrules-bench' \
	bash $(srcdir)/bench/run-flowrules-bench.sh $(BENCH_FLOWRULES_FLAGS)
else
bench-flowrules bench-e2e bench-migrate bench-fleet:
	@echo "$@ needs OVS: configure --with-ovs-source" \
	  "(see utilities/build-ovs.sh)" >&2; exit 1
endif
.PHONY: bench-flowrules

# bench-e2e: flowsteerd inline in a private Open vSwitch (tests/ovs-lib.sh),
# against the same traffic from an uninspected VM in the same run: iperf3
# throughput, the share of packets that never reach the inspector for long
# and short flows, new connections per second and connect() latency.
# Needs root, OVS, iperf3, curl and tcpdump.  Settings are environment
# variables (see the script's header), e.g.
# make bench-e2e BENCH_RUNS=5 BENCH_SECONDS=5
EXTRA_DIST += bench/run-e2e-bench.sh bench/conn-bench.py
if HAVE_OVS
bench-e2e: ovs-ext/flowsteerd
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	bash $(srcdir)/bench/run-e2e-bench.sh
endif
.PHONY: bench-e2e

# bench-migrate: live migration of a VM's decided flows between two hosts'
# flowsteerd (tests/migrate.sh's setup), for 1000 and 10000 flows, against
# the time the first host took to decide them: pre-copy, switch-over
# (target <= 10 ms at 100k flows), bytes per flow, memory, flows lost.
# Needs root, OVS, ovs-pki and python3.  Settings are environment
# variables (see the script's header), e.g.
# make bench-migrate BENCH_MIGRATE_FLOWS=100000
EXTRA_DIST += bench/bench-migrate.sh
if HAVE_OVS
bench-migrate: ovs-ext/flowsteerd
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	bash $(srcdir)/bench/bench-migrate.sh
endif
.PHONY: bench-migrate

# bench-fleet: the Flowsteer database at fleet scale: a 3-member Raft
# cluster (utilities/flowsteer-cluster) and N simulated chassis
# (bench/fleet-sim: flowsteerd's own fleet module, N times in one
# process), against 1 chassis in the same run; with BENCH_FLEET_RELAYS,
# the chassis reach the cluster through ovsdb-server relays.  Needs
# ovsdb-server, ovs-pki and python3.  Settings are environment variables
# (see the script's header), e.g.
# make bench-fleet BENCH_FLEET_CHASSIS=1000
EXTRA_DIST += bench/bench-fleet.sh
if HAVE_OVS
bench-fleet: bench/fleet-sim
	top_srcdir='$(abs_top_srcdir)' FLEET_SIM='$(abs_top_builddir)/bench/fleet-sim' \
	bash $(srcdir)/bench/bench-fleet.sh
endif
.PHONY: bench-fleet

# bench-dpdk: packets/s through the inspector appliance on OVS-DPDK
# (vhost-user), against dpdk-testpmd --forward-mode=io on the same port,
# same generator (testpmd txonly), same run; cycles per packet.  Needs
# root, openvswitch-switch-dpdk, dpdk-dev and 512 free hugepages (reserved and
# released by the script).  BENCH_RUNS, BENCH_SECONDS.
EXTRA_DIST += bench/run-dpdk-bench.sh
if HAVE_OVS
bench-dpdk: ovs-ext/flowsteerd ovs-ext/flowsteer-inspectord
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	bash $(srcdir)/bench/run-dpdk-bench.sh
endif
.PHONY: bench-dpdk

# bench-ports: AF_XDP against AF_PACKET, packets/s and TCP through
# fs-portfwd between two veth pairs, same traffic, same run, with a direct
# veth pair as the reference.  Needs root and iperf3.  BENCH_RUNS.
EXTRA_DIST += bench/run-ports-bench.sh
bench-ports: dpdk-pmd/fs-portfwd
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	bash $(srcdir)/bench/run-ports-bench.sh
.PHONY: bench-ports
