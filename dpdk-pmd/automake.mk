# dpdk-pmd/: nothing built here yet (see DESIGN.md).
