"""The filmc compiler: .film source -> AST -> checked IR -> timeline and render plan."""
