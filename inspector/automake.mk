# libflowsteer-inspector: depends on libndpi and libc only.
#
# The code is built once as a convenience library, which the unit tests link
# to reach internal functions, and wrapped into the installed shared library,
# which exports only the FS_API symbols listed in the version script.
noinst_LTLIBRARIES += inspector/libinspector.la
inspector_libinspector_la_SOURCES = \
	include/flowsteer/inspector.h \
	inspector/insp-private.h \
	inspector/insp-parse.c \
	inspector/insp-parse.h \
	inspector/insp-flow.c \
	inspector/insp-flow.h \
	inspector/insp-frag.c \
	inspector/insp-frag.h \
	inspector/insp-ndpi.c \
	inspector/insp-ndpi.h \
	inspector/insp-policy.c \
	inspector/insp-policy.h \
	inspector/insp-record.c \
	inspector/insp-record.h \
	inspector/insp-match.c \
	inspector/insp-match.h \
	inspector/insp-strtab.c \
	inspector/insp-strtab.h \
	inspector/inspector.c
inspector_libinspector_la_CFLAGS = $(AM_CFLAGS) $(NDPI_CFLAGS) -fvisibility=hidden
inspector_libinspector_la_LIBADD = $(NDPI_LIBS)

lib_LTLIBRARIES += inspector/libflowsteer-inspector.la
inspector_libflowsteer_inspector_la_SOURCES =
inspector_libflowsteer_inspector_la_LIBADD = inspector/libinspector.la $(NDPI_LIBS)
inspector_libflowsteer_inspector_la_LDFLAGS = \
	-version-info 0:0:0 \
	-Wl,--version-script=$(top_srcdir)/inspector/libflowsteer-inspector.sym
EXTRA_inspector_libflowsteer_inspector_la_DEPENDENCIES = inspector/libflowsteer-inspector.sym
# libtool needs one object to link a library; an empty C file provides it.
nodist_inspector_libflowsteer_inspector_la_SOURCES = inspector/empty.c
inspector/empty.c:
	$(AM_V_GEN)echo '/* empty */' > $@
CLEANFILES += inspector/empty.c
EXTRA_DIST += inspector/libflowsteer-inspector.sym inspector/flowsteer-inspector.pc.in

pkginclude_HEADERS += include/flowsteer/inspector.h
pkgconfig_DATA += inspector/flowsteer-inspector.pc

# The offline inspector.
bin_PROGRAMS += inspector/flowsteer-inspect
inspector_flowsteer_inspect_SOURCES = inspector/flowsteer-inspect.c
inspector_flowsteer_inspect_CFLAGS = $(AM_CFLAGS) $(PCAP_CFLAGS)
inspector_flowsteer_inspect_LDADD = inspector/libflowsteer-inspector.la $(PCAP_LIBS)
dist_man_MANS += inspector/flowsteer-inspect.1

# An example of embedding the library with its own packet loop.  The tests
# build it against the installed library through pkg-config; it is built
# here too so that a broken example breaks the build.
noinst_PROGRAMS += inspector/example-embed
inspector_example_embed_SOURCES = inspector/example-embed.c
inspector_example_embed_LDADD = inspector/libflowsteer-inspector.la
