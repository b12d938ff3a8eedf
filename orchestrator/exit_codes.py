"""Exit codes, shared by every command: scripts and CI depend on them."""

EXIT_OK = 0  # success
EXIT_FAILED = 1  # the run failed (or could not take the lock)
EXIT_USAGE = 2  # bad input or usage: nothing was changed
EXIT_CHANGES = 3  # plan --exit-code: something would change; run --fail-on-reject: a gate kept the live model
