# flowrules/: verdicts as OpenFlow rules, on libopenvswitch (linked
# statically, from utilities/build-ovs.sh; see configure --with-ovs-source).
# Files here include OVS's config.h, so OVS_CPPFLAGS come first.
if HAVE_OVS
FLOWRULES_CPPFLAGS = $(OVS_CPPFLAGS) -I$(top_srcdir)/include \
	-I$(top_srcdir)/flowrules -DFLOWSTEER_VERSION='"$(VERSION)"'
FLOWRULES_CFLAGS = $(WARNING_FLAGS) -Wno-missing-field-initializers

noinst_LTLIBRARIES += flowrules/libflowrules.la
flowrules_libflowrules_la_SOURCES = \
	flowrules/flowrules.c \
	flowrules/flowrules.h \
	flowrules/fr-bundle.c \
	flowrules/fr-encode.c \
	flowrules/fr-private.h \
	flowrules/fr-reconcile.c \
	flowrules/fr-conn.c \
	flowrules/fr-conn.h \
	flowrules/fs-openflow.h
flowrules_libflowrules_la_CPPFLAGS = $(FLOWRULES_CPPFLAGS)
flowrules_libflowrules_la_CFLAGS = $(FLOWRULES_CFLAGS)

# A command-line client of the library, for admins' debugging, the tests
# and the benchmark.
bin_PROGRAMS += flowrules/flowsteer-rules
flowrules_flowsteer_rules_SOURCES = flowrules/flowsteer-rules.c
flowrules_flowsteer_rules_CPPFLAGS = $(FLOWRULES_CPPFLAGS)
flowrules_flowsteer_rules_CFLAGS = $(FLOWRULES_CFLAGS)
flowrules_flowsteer_rules_LDADD = flowrules/libflowrules.la \
	inspector/libflowsteer-inspector.la $(OVS_LIBS)
dist_man_MANS += flowrules/flowsteer-rules.8
endif
