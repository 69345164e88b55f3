EXTRA_DIST += \
	utilities/demo/sandbox-policy.conf \
	utilities/demo/sandbox.sh \
	utilities/quickstart.sh
