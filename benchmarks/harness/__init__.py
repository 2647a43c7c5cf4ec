"""benchmarks/run as a package: one concern per module (see benchmarks/README.md, "Layout")."""
