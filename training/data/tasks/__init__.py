"""Task builders: each turns one clean source file into training examples (FIM,
docstring, fix, and real fix pairs from commits)."""
