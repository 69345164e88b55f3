# ovs-ext/: nothing built here yet (see DESIGN.md).
