# libFuzzer targets, built with ./configure --enable-fuzzing CC=clang.
# 'make fuzz-smoke' runs each one for FUZZ_SECONDS (default 30) from the
# seed corpus and fails on any crash, leak or sanitizer report.
EXTRA_DIST += tests/fuzz/fuzz-packet.c tests/fuzz/ndpi-forget.c \
	tests/fuzz/ndpi-forget.h tests/fuzz/fuzz-policy.c \
	tests/fuzz/fuzz-record.c tests/fuzz/fuzz-openflow.c \
	tests/fuzz/fuzz-rules.c tests/fuzz/fuzz-config.c \
	tests/fuzz/fuzz-chan.c tests/fuzz/fuzz-mig.c \
	tests/fuzz/make-seeds.sh tests/fuzz/regress

if ENABLE_FUZZING
FUZZ_FLAGS = -fsanitize=fuzzer,address,undefined
FUZZ_TARGETS = tests/fuzz/fuzz-packet tests/fuzz/fuzz-policy \
	tests/fuzz/fuzz-record tests/fuzz/fuzz-chan tests/fuzz/fuzz-mig
noinst_PROGRAMS += $(FUZZ_TARGETS)

tests_fuzz_fuzz_packet_SOURCES = tests/fuzz/fuzz-packet.c \
	tests/fuzz/ndpi-forget.c tests/fuzz/ndpi-forget.h
tests_fuzz_fuzz_packet_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS) $(NDPI_CFLAGS) \
	-I$(top_srcdir)/inspector
tests_fuzz_fuzz_packet_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_packet_LDADD = inspector/libinspector.la

tests_fuzz_fuzz_policy_SOURCES = tests/fuzz/fuzz-policy.c
tests_fuzz_fuzz_policy_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS) \
	-I$(top_srcdir)/inspector
tests_fuzz_fuzz_policy_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_policy_LDADD = inspector/libinspector.la

tests_fuzz_fuzz_record_SOURCES = tests/fuzz/fuzz-record.c
tests_fuzz_fuzz_record_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_record_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_record_LDADD = inspector/libinspector.la

# The appliance channel's messages, decoded on both sides.
tests_fuzz_fuzz_chan_SOURCES = tests/fuzz/fuzz-chan.c
tests_fuzz_fuzz_chan_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/dpdk-pmd
tests_fuzz_fuzz_chan_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_chan_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_chan_LDADD = dpdk-pmd/libfschan.la

# The migration messages between two flowsteerd.
tests_fuzz_fuzz_mig_SOURCES = tests/fuzz/fuzz-mig.c
tests_fuzz_fuzz_mig_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/ovs-ext
tests_fuzz_fuzz_mig_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_mig_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_mig_LDADD = ovs-ext/libfsmig.la

# Targets that need OVS.  The OpenFlow messages flowrules decodes:
if HAVE_OVS
FUZZ_TARGETS += tests/fuzz/fuzz-openflow
noinst_PROGRAMS += tests/fuzz/fuzz-openflow
tests_fuzz_fuzz_openflow_SOURCES = tests/fuzz/fuzz-openflow.c
tests_fuzz_fuzz_openflow_CPPFLAGS = $(FLOWRULES_CPPFLAGS) -I$(top_srcdir) \
	-I$(top_srcdir)/ovs-ext
tests_fuzz_fuzz_openflow_CFLAGS = $(FLOWRULES_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_openflow_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_openflow_LDADD = flowrules/libflowrules.la \
	inspector/libflowsteer-inspector.la $(OVS_LIBS)

# flowsteer-rules' commands.
FUZZ_TARGETS += tests/fuzz/fuzz-rules
noinst_PROGRAMS += tests/fuzz/fuzz-rules
tests_fuzz_fuzz_rules_SOURCES = tests/fuzz/fuzz-rules.c
tests_fuzz_fuzz_rules_CPPFLAGS = $(FLOWRULES_CPPFLAGS) -I$(top_srcdir)
tests_fuzz_fuzz_rules_CFLAGS = $(FLOWRULES_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_rules_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_rules_LDADD = flowrules/libflowrules.la \
	inspector/libflowsteer-inspector.la $(OVS_LIBS)

# flowsteerd's configuration values, as the database holds them.
FUZZ_TARGETS += tests/fuzz/fuzz-config
noinst_PROGRAMS += tests/fuzz/fuzz-config
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz-config.c \
	ovs-ext/fs-config.c
tests_fuzz_fuzz_config_CPPFLAGS = $(FLOWRULES_CPPFLAGS) \
	-I$(top_srcdir)/ovs-ext -I$(top_srcdir)/dpdk-pmd
tests_fuzz_fuzz_config_CFLAGS = $(FLOWRULES_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_config_LDFLAGS = $(FUZZ_FLAGS)
tests_fuzz_fuzz_config_LDADD = inspector/libflowsteer-inspector.la \
	dpdk-pmd/libfsport.la $(OVS_LIBS)
endif

FUZZ_SECONDS ?= 30
fuzz-smoke: $(FUZZ_TARGETS)
	$(AM_V_at)FUZZ_SECONDS=$(FUZZ_SECONDS) FLOWSTEER_SHARED='$(FLOWSTEER_SHARED)' \
	  $(SHELL) $(top_srcdir)/tests/fuzz/run-fuzz.sh $(FUZZ_TARGETS)
else
fuzz-smoke:
	@echo "fuzz-smoke: configure with --enable-fuzzing CC=clang first"; exit 1
endif
.PHONY: fuzz-smoke
EXTRA_DIST += tests/fuzz/run-fuzz.sh
