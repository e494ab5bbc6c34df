"""Side-by-side benchmarks; results and the commands that reproduce them are in docs/benchmarks.md."""
