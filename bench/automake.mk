# Benchmarks: programs that print figures side by side with a reference
# tool in the same run.  Not tests: 'make bench' runs them.
noinst_PROGRAMS += bench/inspect-bench
bench_inspect_bench_SOURCES = bench/inspect-bench.c
bench_inspect_bench_CFLAGS = $(AM_CFLAGS) $(PCAP_CFLAGS)
bench_inspect_bench_LDADD = inspector/libflowsteer-inspector.la $(PCAP_LIBS)

EXTRA_DIST += \
	bench/gen-mix.sh \
	bench/run-inspect-bench.sh

# 'make bench': inspect-bench against ndpiReader on the merged nDPI
# reference captures and a generated HTTP/TLS/DNS/SSH mix (gen-mix.sh, which
# needs root), both cached in bench/data/.  Options go in BENCH_FLAGS, e.g.
# make bench BENCH_FLAGS='--ndpi-config ../shared/data/ndpi-4.2/config'
bench: bench/inspect-bench
	top_srcdir='$(abs_top_srcdir)' NDPIREADER='$(NDPIREADER)' \
	INSPECT_BENCH='$(abs_top_builddir)/bench/inspect-bench' \
	$(SHELL) $(srcdir)/bench/run-inspect-bench.sh $(BENCH_FLAGS)
.PHONY: bench
