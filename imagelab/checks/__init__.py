"""The checks every image must pass: smoke (run and probe), structure (its contract), lint (its Dockerfile)."""
