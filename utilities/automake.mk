# libvirt's qemu hook for live migration (install as
# /etc/libvirt/hooks/qemu.d/flowsteer).
dist_pkgdata_SCRIPTS = utilities/flowsteer-libvirt-hook

# The Flowsteer database's cluster members (as ovn-ctl runs OVN's).
dist_bin_SCRIPTS = utilities/flowsteer-cluster
dist_man_MANS += utilities/flowsteer-cluster.8

EXTRA_DIST += \
	utilities/demo/sandbox-policy.conf \
	utilities/demo/sandbox.sh \
	utilities/quickstart.sh
