"""The commands of `python -m imagelab`, one module each: its HELP, its `add_arguments` and its `run`.

A command reads its flags once into typed values (a loaded BaseSet, paths, the gate's Thresholds) and
calls the jobs with them; the jobs (pipeline.py, base_move.py, ci_matrix.py, ...) never import this package.
Each `run` imports its jobs when it runs, so that `--help` or `lint` do not load the Docker SDK.
cli.py keeps only the table of commands.
"""
