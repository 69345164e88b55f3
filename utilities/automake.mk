EXTRA_DIST += utilities/quickstart.sh
