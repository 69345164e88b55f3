#! /bin/sh
# Generates configure and Makefile.in.  Run once after a fresh checkout.
set -e
mkdir -p m4 build-aux
autoreconf --install --force
