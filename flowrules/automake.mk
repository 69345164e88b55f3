# flowrules/: nothing built here yet (see DESIGN.md).
