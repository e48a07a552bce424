"""The `rrplan` command: argument parsing, printing and exit codes; everything else is a library call."""
