# ovs-ext/: flowsteerd, the OVS extension daemon (libopenvswitch).
if HAVE_OVS
sbin_PROGRAMS += ovs-ext/flowsteerd
ovs_ext_flowsteerd_SOURCES = \
	ovs-ext/flowsteerd.c \
	ovs-ext/fs-config.c \
	ovs-ext/fs-config.h
ovs_ext_flowsteerd_CPPFLAGS = $(FLOWRULES_CPPFLAGS) -I$(top_srcdir)/ovs-ext
ovs_ext_flowsteerd_CFLAGS = $(FLOWRULES_CFLAGS)
ovs_ext_flowsteerd_LDADD = flowrules/libflowrules.la \
	inspector/libflowsteer-inspector.la $(OVS_LIBS)
endif
