# libvirt's qemu hook for live migration (install as
# /etc/libvirt/hooks/qemu.d/flowsteer).
dist_pkgdata_SCRIPTS = utilities/flowsteer-libvirt-hook

EXTRA_DIST += \
	utilities/demo/sandbox-policy.conf \
	utilities/demo/sandbox.sh \
	utilities/quickstart.sh
