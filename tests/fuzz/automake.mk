# libFuzzer targets: see tests/fuzz/README.
