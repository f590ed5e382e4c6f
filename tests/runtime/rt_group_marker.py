"""Imported by a toy worker group's workers as they start (test_rt_worker_groups): a module only
those workers have, so a node can tell which kind of worker ran it."""
