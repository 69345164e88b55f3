# Benchmarks: programs that print figures side by side with a reference
# tool in the same run.  Not tests: 'make bench' runs them.
